import { createHash } from 'node:crypto';
import type { LoginAttemptRepository } from '../db/login-attempt-repository.ts';

/**
 * Admin login attempts, counted before the password is checked (a slot is reserved first, so 600
 * parallel guesses get no more checks than the limit) over a sliding window, in the
 * database so every task shares one count. Two counters: the (address, username) pair — a
 * username locked from one address stays open from another, so guessing cannot lock the admin
 * out — and a looser one per address across usernames.
 */
export interface LoginLimiter {
  /** Counts this attempt: seconds to wait when it must be refused (its password unchecked), else 0. */
  reserve(ip: string, username: string): Promise<number>;
  /** A correct password clears its (address, username) counter. */
  succeeded(ip: string, username: string): Promise<void>;
}

export interface LoginLimiterOptions {
  attempts: LoginAttemptRepository;
  /** Attempts per (address, username) pair and window. */
  perPair?: number;
  /** Attempts per address, whatever the username, and window. */
  perAddress?: number;
  windowMs?: number;
  now?: () => number;
  /** A failed background sweep of old counters (the next one retries). */
  onSweepError?: (err: unknown) => void;
}

// Hashed, so rows have one size and a password typed into the username field is not stored.
const counterKey = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('base64url');

export function createLoginLimiter(options: LoginLimiterOptions): LoginLimiter {
  const perPair = options.perPair ?? 5;
  const perAddress = options.perAddress ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  let lastSweep = now();

  const pairKey = (ip: string, username: string) => counterKey('pair', ip, username.trim().toLowerCase());

  // Old counters go at most once a window per task, off the request path: the table holds about
  // one window's attempts.
  function maybeSweep(t: number): void {
    if (t - lastSweep < windowMs) return;
    lastSweep = t;
    options.attempts.sweep(new Date(t)).catch((err: unknown) => options.onSweepError?.(err));
  }

  return {
    async reserve(ip, username) {
      const t = now();
      maybeSweep(t);
      const waits = await options.attempts.reserve(
        [
          { key: pairKey(ip, username), limit: perPair },
          { key: counterKey('address', ip), limit: perAddress },
        ],
        windowMs,
        new Date(t),
      );
      const waitMs = Math.max(0, ...waits.values());
      return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
    },
    async succeeded(ip, username) {
      await options.attempts.clear([pairKey(ip, username)]);
    },
  };
}
