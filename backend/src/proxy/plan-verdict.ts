import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyError } from '../anthropic/errors.ts';
import { headerValue } from '../anthropic/headers.ts';

/** Why a request was served by Bedrock instead of Anthropic. */
export type FallbackReason =
  | 'rate_limited'
  | 'usage_limit'
  | 'overloaded'
  | 'server_error'
  | 'connect_error'
  | 'first_byte_timeout'
  | 'circuit_open'
  /** The user's Plan window reached their switch threshold (proxy/plan-window-policy.ts). */
  | 'plan_threshold'
  /** The Claude Code session moved to Bedrock earlier and its prompt cache there is still warm. */
  | 'session_sticky';

/**
 * What to do with Anthropic's answer: hand it to the client, or try Bedrock. `countsForBreaker`:
 * a throttle or an outage counts toward the key's breaker; the Plan's own limit does not (the Plan
 * window parks the key until the window resets instead).
 */
export type PlanVerdict = { action: 'relay' } | { action: 'fallback'; reason: FallbackReason; countsForBreaker: boolean };

/**
 * Fallback triggers (README, "Bedrock fallback"): 429, 529, any 5xx. Never 400/401/403/404/413 or other 4xx: those
 * are about the request itself and Bedrock would say the same. A 429 is the Plan's limit only when
 * its unified headers say `rejected`; without them it is a short throttle.
 */
export function classifyPlanStatus(status: number, headers: IncomingHttpHeaders): PlanVerdict {
  if (status === 429) {
    const planLimit = headerValue(headers['anthropic-ratelimit-unified-status']) === 'rejected';
    return { action: 'fallback', reason: planLimit ? 'usage_limit' : 'rate_limited', countsForBreaker: !planLimit };
  }
  if (status === 529) return { action: 'fallback', reason: 'overloaded', countsForBreaker: true };
  if (status >= 500) return { action: 'fallback', reason: 'server_error', countsForBreaker: true };
  return { action: 'relay' };
}

/** A transport failure before Anthropic answered: always a fallback trigger. */
export function classifyPlanFailure(error: ProxyError): PlanVerdict {
  return { action: 'fallback', reason: error.code === 'PLAN_FIRST_BYTE_TIMEOUT' ? 'first_byte_timeout' : 'connect_error', countsForBreaker: true };
}
