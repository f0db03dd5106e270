import type { Envelope } from '../security/envelope.ts';

/** The decrypted Bedrock API key of an access key, read only when a request actually goes to Bedrock. */
export interface BedrockKeyStore {
  /**
   * The access key's Bedrock API key, or null when none is registered. Rejects with an
   * EnvelopeError (`code` SECURITY_*) when the stored blob does not decrypt, or with the database's error.
   */
  get(accessKeyId: string): Promise<string | null>;
  /** Forget the cached key at once (admin set, replaced or deleted it). */
  invalidate(accessKeyId: string): void;
  /** Forget every cached key (changes may have been missed: cache-coherence.ts). */
  invalidateAll(): void;
}

export interface BedrockKeyStoreOptions {
  /** Narrow view of db/bedrock-key-repository.ts (the proxy does not import db/). */
  repository: { get(accessKeyId: string): Promise<{ encryptedKey: Buffer } | null> };
  envelope: Pick<Envelope, 'decrypt'>;
  /** How long a decrypted key is kept (default 5 minutes). */
  ttlMs?: number;
  /** How long "no key registered" is kept (default 30 s). */
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  value: string | null;
  expiresAt: number;
}

/**
 * Decrypts each key once per TTL (a KMS call costs a round trip), and concurrent misses for one
 * access key share one read and one decryption. `invalidate` wins over a read already in flight:
 * its result is handed to the callers that were waiting, but not cached.
 */
export function createBedrockKeyStore(options: BedrockKeyStoreOptions): BedrockKeyStore {
  const ttl = options.ttlMs ?? 5 * 60_000;
  const negativeTtl = Math.min(options.negativeTtlMs ?? 30_000, ttl);
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<string | null>>();

  function load(accessKeyId: string): Promise<string | null> {
    const pending = (async () => {
      const row = await options.repository.get(accessKeyId);
      return row ? options.envelope.decrypt(row.encryptedKey, accessKeyId) : null;
    })()
      .then((value) => {
        // Still the current read: not invalidated (which drops it from `inflight`) meanwhile.
        if (inflight.get(accessKeyId) === pending) {
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string); // oldest first
          cache.set(accessKeyId, { value, expiresAt: now() + (value === null ? negativeTtl : ttl) });
        }
        return value;
      })
      .finally(() => {
        if (inflight.get(accessKeyId) === pending) inflight.delete(accessKeyId);
      });
    inflight.set(accessKeyId, pending);
    return pending;
  }

  return {
    async get(accessKeyId) {
      const entry = cache.get(accessKeyId);
      if (entry) {
        if (entry.expiresAt > now()) return entry.value;
        cache.delete(accessKeyId);
      }
      return inflight.get(accessKeyId) ?? load(accessKeyId);
    },
    invalidate(accessKeyId) {
      cache.delete(accessKeyId);
      inflight.delete(accessKeyId);
    },
    invalidateAll() {
      cache.clear();
      inflight.clear();
    },
  };
}
