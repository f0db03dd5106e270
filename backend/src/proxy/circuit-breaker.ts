export type CircuitState = 'closed' | 'open' | 'half_open';

/** What a caller should do with Anthropic for this access key right now. */
export type CircuitDecision = 'try' | 'probe' | 'skip';

export interface CircuitSnapshot {
  accessKeyId: string;
  state: CircuitState;
  /** Counted failures inside the window (closed state). */
  failures: number;
  openedAt: Date | null;
  /** When the next probe may go to Anthropic (open state). */
  retryAt: Date | null;
  reason: string | null;
}

export interface CircuitBreakers {
  decide(accessKeyId: string): CircuitDecision;
  /** Anthropic answered normally. A probe's success closes the breaker. */
  success(accessKeyId: string): void;
  /** A counted failure (a throttle, an overload, an outage). */
  failure(accessKeyId: string, reason: string): void;
  /** The probe ended without a verdict (client gone): let the next request probe instead. */
  release(accessKeyId: string): void;
  reset(accessKeyId: string): void;
  snapshot(accessKeyId: string): CircuitSnapshot;
  list(): CircuitSnapshot[];
}

export interface CircuitBreakerOptions {
  threshold: number;
  windowMs: number;
  resetMs: number;
  now?: () => number;
  /** Called each time a breaker opens (or a failed probe re-opens it): metrics and the log. */
  onOpen?: (accessKeyId: string, reason: string) => void;
}

interface Circuit {
  failures: number[]; // times of counted failures within the window
  openedAt: number | null;
  probing: boolean;
  reason: string | null;
}

/**
 * Per-access-key breaker, in memory. `threshold` failures within `windowMs` open it; while open,
 * plan_first requests skip Anthropic. After `resetMs` exactly one request probes Anthropic (others
 * keep skipping): success closes the breaker, failure re-opens it for another `resetMs`.
 */
export function createCircuitBreakers(options: CircuitBreakerOptions): CircuitBreakers {
  const now = options.now ?? Date.now;
  const circuits = new Map<string, Circuit>();
  const get = (id: string): Circuit => {
    let c = circuits.get(id);
    if (!c) circuits.set(id, (c = { failures: [], openedAt: null, probing: false, reason: null }));
    return c;
  };
  const stateOf = (c: Circuit, t: number): CircuitState =>
    c.openedAt === null ? 'closed' : c.probing || t - c.openedAt >= options.resetMs ? 'half_open' : 'open';
  const open = (id: string, c: Circuit, reason: string) => {
    c.openedAt = now();
    c.failures = [];
    c.probing = false;
    c.reason = reason;
    options.onOpen?.(id, reason);
  };

  return {
    decide(id) {
      const c = circuits.get(id);
      if (!c || c.openedAt === null) return 'try';
      if (c.probing || now() - c.openedAt < options.resetMs) return 'skip';
      c.probing = true;
      return 'probe';
    },
    success(id) {
      const c = circuits.get(id);
      if (!c) return;
      if (c.openedAt === null) {
        c.failures = [];
        return;
      }
      if (c.probing) circuits.delete(id);
    },
    failure(id, reason) {
      const c = get(id);
      if (c.openedAt !== null) {
        if (c.probing) open(id, c, reason); // the probe failed: another full reset period
        return;
      }
      const t = now();
      c.failures = c.failures.filter((at) => t - at < options.windowMs);
      c.failures.push(t);
      if (c.failures.length >= options.threshold) open(id, c, reason);
    },
    release(id) {
      const c = circuits.get(id);
      if (c) c.probing = false;
    },
    reset(id) {
      circuits.delete(id);
    },
    snapshot(id) {
      const c = circuits.get(id);
      const t = now();
      if (!c) return { accessKeyId: id, state: 'closed', failures: 0, openedAt: null, retryAt: null, reason: null };
      return {
        accessKeyId: id,
        state: stateOf(c, t),
        failures: c.failures.filter((at) => t - at < options.windowMs).length,
        openedAt: c.openedAt === null ? null : new Date(c.openedAt),
        retryAt: c.openedAt === null ? null : new Date(c.openedAt + options.resetMs),
        reason: c.reason,
      };
    },
    list() {
      return [...circuits.keys()].map((id) => this.snapshot(id));
    },
  };
}
