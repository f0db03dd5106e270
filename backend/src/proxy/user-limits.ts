/**
 * Optional per-user limits on requests per minute and requests at once, held in memory by each
 * proxy process: with N tasks behind the load balancer a user can get up to N times the limit.
 * They protect shared upstream quota from one runaway client; the monthly budget is what caps money.
 */

import type { ProxyError } from '../anthropic/errors.ts';
import { proxyError } from './errors.ts';

export interface UserLimits {
  /** At most this many requests in any 60-second window; null: no limit. */
  maxRequestsPerMinute: number | null;
  /** At most this many requests being served at once; null: no limit. */
  maxInFlight: number | null;
}

export type LimitVerdict =
  | { admitted: true; release(): void }
  | { admitted: false; limit: 'requests_per_minute' | 'in_flight'; max: number; retryAfterSeconds: number };

export interface UserLimiter {
  /** Admits one request of the user (release it when it ends), or says which limit it hit and when to retry. */
  enter(userId: string, limits: UserLimits): LimitVerdict;
}

const WINDOW_MS = 60_000;
const NOOP = () => {};

interface State {
  /** Admission times within the last window, oldest first. */
  admitted: number[];
  inFlight: number;
}

export function createUserLimiter(options: { now?: () => number } = {}): UserLimiter {
  const now = options.now ?? Date.now;
  const users = new Map<string, State>();

  const forget = (userId: string, state: State) => {
    if (state.inFlight === 0 && state.admitted.length === 0) users.delete(userId);
  };

  return {
    enter(userId, limits) {
      const rpm = limits.maxRequestsPerMinute;
      const concurrent = limits.maxInFlight;
      if (rpm === null && concurrent === null) return { admitted: true, release: NOOP };
      const t = now();
      const state = users.get(userId) ?? { admitted: [], inFlight: 0 };
      users.set(userId, state);
      // Drop admissions older than the window (the list is oldest first).
      let old = 0;
      while (old < state.admitted.length && state.admitted[old]! <= t - WINDOW_MS) old++;
      if (old > 0) state.admitted.splice(0, old);

      if (concurrent !== null && state.inFlight >= concurrent) {
        forget(userId, state);
        // No telling when a running request ends; a second is a fair first wait.
        return { admitted: false, limit: 'in_flight', max: concurrent, retryAfterSeconds: 1 };
      }
      if (rpm !== null && state.admitted.length >= rpm) {
        const oldestRelevant = state.admitted[state.admitted.length - rpm]!;
        forget(userId, state);
        return { admitted: false, limit: 'requests_per_minute', max: rpm, retryAfterSeconds: Math.max(1, Math.ceil((oldestRelevant + WINDOW_MS - t) / 1000)) };
      }
      if (rpm !== null) state.admitted.push(t);
      state.inFlight++;
      let released = false;
      return {
        admitted: true,
        release() {
          if (released) return;
          released = true;
          state.inFlight--;
          // Admission times age out on the next enter(); an idle user's state is dropped then or here.
          if (state.admitted.length > 0 && state.admitted[state.admitted.length - 1]! <= now() - WINDOW_MS) state.admitted.length = 0;
          forget(userId, state);
        },
      };
    },
  };
}

/** Anthropic's 429 for a request over its user's limit, with when to try again. */
export function userLimitError(verdict: Extract<LimitVerdict, { admitted: false }>): ProxyError {
  const what = verdict.limit === 'in_flight' ? `${verdict.max} requests at once` : `${verdict.max} requests per minute`;
  return proxyError('PROXY_USER_LIMIT', what, verdict.retryAfterSeconds);
}
