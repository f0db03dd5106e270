/**
 * Failed admin logins, counted per client address and per username over a sliding window: after
 * `maxFailures` of either within `windowMs`, further attempts are refused without checking the
 * password until the oldest failure leaves the window. In memory, per process: several tasks
 * multiply the budget by their number, which still turns guessing into a crawl.
 */
export interface LoginLimiter {
  /** Seconds to wait when this attempt must be refused, else 0. */
  retryAfter(ip: string, username: string): number;
  failed(ip: string, username: string): void;
  /** A correct password clears both counters. */
  succeeded(ip: string, username: string): void;
}

export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Bound on remembered addresses and usernames (oldest dropped first). */
  maxEntries?: number;
  now?: () => number;
}

export function createLoginLimiter(options: LoginLimiterOptions = {}): LoginLimiter {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>(); // key → failure times, oldest first

  const keys = (ip: string, username: string) => [`ip:${ip}`, `user:${username.trim().toLowerCase()}`];

  function recent(key: string, t: number): number[] {
    const times = (failures.get(key) ?? []).filter((at) => t - at < windowMs);
    if (times.length) failures.set(key, times);
    else failures.delete(key);
    return times;
  }

  return {
    retryAfter(ip, username) {
      const t = now();
      let waitMs = 0;
      for (const key of keys(ip, username)) {
        const times = recent(key, t);
        if (times.length >= maxFailures) waitMs = Math.max(waitMs, times[times.length - maxFailures]! + windowMs - t);
      }
      return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
    },
    failed(ip, username) {
      const t = now();
      for (const key of keys(ip, username)) {
        const times = recent(key, t);
        times.push(t);
        failures.delete(key); // re-insert: the map's order is least recently failed first
        failures.set(key, times.slice(-maxFailures));
        if (failures.size > maxEntries) failures.delete(failures.keys().next().value as string);
      }
    },
    succeeded(ip, username) {
      for (const key of keys(ip, username)) failures.delete(key);
    },
  };
}
