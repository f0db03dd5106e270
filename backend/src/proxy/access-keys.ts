/** What the proxy needs to know about the caller, resolved from the raw access key. */
export interface KeyContext {
  accessKeyId: string;
  userId: string;
  keyPrefix: string;
  routingStrategy: 'plan_first' | 'bedrock_only' | 'plan_only';
  bedrockRegion: string | null;
  /** The user's monthly Bedrock budget (numeric string), null for none: only budgeted users' Bedrock calls reserve. */
  monthlyBudgetUsd: string | null;
  /** Optional per-user limits (proxy/user-limits.ts); null: none. */
  maxRequestsPerMinute: number | null;
  maxInFlight: number | null;
  /** The user's Plan switch threshold (0–1); null: the server's PLAN_SWITCH_THRESHOLD. */
  planSwitchThreshold: number | null;
  /** With paid overage available: stay on Anthropic or move to Bedrock (proxy/plan-window-policy.ts). */
  planOverage: 'stay' | 'move';
  /** A rotated key stops working at this instant. */
  expiresAt: Date | null;
}

export interface AccessKeyResolver {
  /** The key's context, or null for an unknown, revoked, expired or inactive-user key. */
  resolve(rawKey: string): Promise<KeyContext | null>;
  /** The key's context if it is in memory and current; never a lookup (null otherwise). */
  known(rawKey: string): KeyContext | null;
  /** Forget cached answers for matching keys (and every negative answer): admin changed something. */
  invalidate(match: (ctx: KeyContext) => boolean): void;
}

export interface AccessKeyResolverOptions {
  isWellFormed: (rawKey: string) => boolean;
  hash: (rawKey: string) => string;
  /** Database lookup by key hash; returns only keys that may be used now. */
  lookup: (keyHash: string) => Promise<KeyContext | null>;
  /** After this a known key is re-read in the background while the cached answer keeps serving. */
  refreshAfterMs?: number;
  negativeTtlMs?: number;
  maxNegativeEntries?: number;
  /** Known keys whose hash is remembered by raw key (see `hashes` below). */
  maxRememberedHashes?: number;
  now?: () => number;
}

interface Entry {
  value: KeyContext | null;
  fetchedAt: number;
}

/**
 * Steady state does no query: a known key is answered from memory and refreshed in the background
 * when its entry grows old; concurrent misses for one key share one lookup; unknown keys are
 * remembered briefly (bounded) so a flood of bad keys cannot flood the database. While the
 * database is down, keys already known keep working.
 */
export function createAccessKeyResolver(options: AccessKeyResolverOptions): AccessKeyResolver {
  const refreshAfter = options.refreshAfterMs ?? 60_000;
  const negativeTtl = options.negativeTtlMs ?? 5_000;
  const maxNegative = options.maxNegativeEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const known = new Map<string, Entry>();
  const unknown = new Map<string, number>(); // hash → time of the miss
  const inflight = new Map<string, Promise<KeyContext | null>>();
  // Raw key → its HMAC, for keys served from memory: the HMAC was the costliest step of a cached
  // answer, and a key's hash never changes. Only known keys get in (unknown ones cannot grow it), and
  // it is bounded; the raw keys it holds are in this process's memory with every request anyway.
  const hashes = new Map<string, string>();
  const maxHashes = options.maxRememberedHashes ?? 10_000;
  // Bumped by invalidate: a lookup that started before it may have read the old row, so its answer
  // is handed to its waiters but not cached.
  let generation = 0;

  function load(hash: string): Promise<KeyContext | null> {
    let pending = inflight.get(hash);
    if (!pending) {
      const startedIn = generation;
      pending = options
        .lookup(hash)
        .then((value) => {
          if (startedIn !== generation) return value;
          if (value) {
            known.set(hash, { value, fetchedAt: now() });
            unknown.delete(hash);
          } else {
            known.delete(hash);
            if (unknown.size >= maxNegative) unknown.delete(unknown.keys().next().value as string);
            unknown.set(hash, now());
          }
          return value;
        })
        .finally(() => {
          if (inflight.get(hash) === pending) inflight.delete(hash);
        });
      inflight.set(hash, pending);
    }
    return pending;
  }

  return {
    async resolve(rawKey) {
      if (!options.isWellFormed(rawKey)) return null;
      const remembered = hashes.get(rawKey);
      const hash = remembered ?? options.hash(rawKey);
      const t = now();
      const entry = known.get(hash);
      if (entry?.value) {
        const ctx = entry.value;
        if (remembered === undefined) {
          if (hashes.size >= maxHashes) hashes.delete(hashes.keys().next().value as string);
          hashes.set(rawKey, hash);
        }
        if (ctx.expiresAt && ctx.expiresAt.getTime() <= t) {
          known.delete(hash);
          return load(hash);
        }
        if (t - entry.fetchedAt > refreshAfter) load(hash).catch(() => {}); // serve the cached answer meanwhile
        return ctx;
      }
      const missAt = unknown.get(hash);
      if (missAt !== undefined && t - missAt < negativeTtl) return null;
      return load(hash);
    },
    known(rawKey) {
      if (!options.isWellFormed(rawKey)) return null;
      const ctx = known.get(hashes.get(rawKey) ?? options.hash(rawKey))?.value;
      return ctx && (!ctx.expiresAt || ctx.expiresAt.getTime() > now()) ? ctx : null;
    },
    invalidate(match) {
      for (const [hash, entry] of known) if (entry.value && match(entry.value)) known.delete(hash);
      unknown.clear();
      hashes.clear(); // a revoked key's raw text need not stay in memory
      generation++;
      inflight.clear(); // the next resolve reads the row again instead of joining a stale read
    },
  };
}
