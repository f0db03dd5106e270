/**
 * Requests without a valid credential, counted per client address (the ALB's X-Forwarded-For
 * entry: server.ts `trustProxy`) in fixed one-minute windows. Past `max` in a window, that
 * address's unauthenticated requests are refused at once, without a key lookup (each unknown key
 * would cost a database query) until the window ends. A valid key already in memory still works
 * from that address, so a colleague behind the same NAT as a misconfigured client is not locked out.
 * In memory, per task, bounded.
 */
export interface AddressFailures {
  /** Seconds until the address may try unauthenticated requests again; 0 when it may now. */
  retryAfter(ip: string): number;
  failed(ip: string): void;
}

export function createAddressFailures(options: { max: number; windowMs?: number; maxEntries?: number; now?: () => number }): AddressFailures {
  const windowMs = options.windowMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { startedAt: number; failures: number }>();
  const current = (ip: string, t: number) => {
    const w = windows.get(ip);
    return w && t - w.startedAt < windowMs ? w : undefined;
  };
  return {
    retryAfter(ip) {
      const t = now();
      const w = current(ip, t);
      return w && w.failures >= options.max ? Math.ceil((w.startedAt + windowMs - t) / 1000) : 0;
    },
    failed(ip) {
      const t = now();
      const w = current(ip, t);
      if (w) {
        w.failures++;
        return;
      }
      windows.delete(ip);
      if (windows.size >= maxEntries) windows.delete(windows.keys().next().value as string);
      windows.set(ip, { startedAt: t, failures: 1 });
    },
  };
}
