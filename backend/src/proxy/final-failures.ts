import { createHash } from 'node:crypto';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import type { ProxyError } from '../anthropic/errors.ts';

/**
 * Claude Code answers an SSE `error` on a stream that carried nothing but pings by sending the same
 * conversation once more without streaming (the current CLI does so for every error type). When
 * that error said both upstreams failed, the re-send should not wait on both again: this keeps the
 * failure for a short while, per access key, so the re-send gets it at once as a JSON error with
 * `x-should-retry: false`, which ends Claude Code's attempts. In memory, per task: a re-send that
 * lands on another task simply tries the upstreams again.
 */
export interface FinalFailures {
  remember(accessKeyId: string, request: AnthropicRequest, error: ProxyError): void;
  /** The failure remembered for this conversation, once (it is forgotten as it is taken). */
  take(accessKeyId: string, request: AnthropicRequest): ProxyError | undefined;
}

interface Entry {
  fingerprint: string;
  error: ProxyError;
  expiresAt: number;
}

/** Model and messages: what the re-send keeps (it changes `stream` and `max_tokens`). */
function fingerprint(request: AnthropicRequest): string {
  return createHash('sha256').update(String(request.model)).update('\0').update(JSON.stringify(request.messages)).digest('base64');
}

export function createFinalFailures(options: { ttlMs?: number; now?: () => number } = {}): FinalFailures {
  const ttlMs = options.ttlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  return {
    remember(accessKeyId, request, error) {
      const at = now();
      for (const [id, entry] of entries) if (entry.expiresAt <= at) entries.delete(id);
      entries.set(accessKeyId, { fingerprint: fingerprint(request), error, expiresAt: at + ttlMs });
    },
    take(accessKeyId, request) {
      // The common case costs one map lookup: no hashing unless this key just failed.
      const entry = entries.get(accessKeyId);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(accessKeyId);
        return undefined;
      }
      if (entry.fingerprint !== fingerprint(request)) return undefined;
      entries.delete(accessKeyId);
      return entry.error;
    },
  };
}
