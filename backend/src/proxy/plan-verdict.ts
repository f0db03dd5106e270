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
  | 'circuit_open';

/** What to do with Anthropic's answer: hand it to the client, or try Bedrock (and count a breaker failure). */
export type PlanVerdict = { action: 'relay' } | { action: 'fallback'; reason: FallbackReason; openCircuit: boolean };

// Longer than this, a retry-after is a plan window (5-hourly or weekly), not a passing throttle.
const USAGE_LIMIT_RETRY_AFTER_SECONDS = 60;

/**
 * Fallback triggers (README, "Bedrock fallback"): 429, 529, any 5xx. Never 400/401/403/404/413 or other 4xx: those
 * are about the request itself and Bedrock would say the same.
 */
export function classifyPlanStatus(status: number, headers: IncomingHttpHeaders, body: string): PlanVerdict {
  if (status === 429) {
    const usageLimit = isPlanUsageLimit(headers, body);
    return { action: 'fallback', reason: usageLimit ? 'usage_limit' : 'rate_limited', openCircuit: usageLimit };
  }
  if (status === 529) return { action: 'fallback', reason: 'overloaded', openCircuit: false };
  if (status >= 500) return { action: 'fallback', reason: 'server_error', openCircuit: false };
  return { action: 'relay' };
}

/** A transport failure before Anthropic answered: always a fallback trigger. */
export function classifyPlanFailure(error: ProxyError): PlanVerdict {
  return { action: 'fallback', reason: error.code === 'PLAN_FIRST_BYTE_TIMEOUT' ? 'first_byte_timeout' : 'connect_error', openCircuit: false };
}

/**
 * A Claude plan's usage window is exhausted (hours to go), as opposed to a short throttle. Told by
 * the subscription headers, a long retry-after, or — when Anthropic gives nothing else — the body.
 */
export function isPlanUsageLimit(headers: IncomingHttpHeaders, body: string): boolean {
  if (headerValue(headers['anthropic-ratelimit-unified-status']) === 'rejected') return true;
  const retryAfter = Number(headerValue(headers['retry-after']));
  if (Number.isFinite(retryAfter) && retryAfter > USAGE_LIMIT_RETRY_AFTER_SECONDS) return true;
  // The one place we read message text: a plan-limit 429 may carry nothing else that tells it apart.
  return /usage limit/i.test(body);
}
