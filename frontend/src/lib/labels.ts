import type { RoutingStrategy, UserStatus } from './types.ts';

export const ROUTING_LABELS: Record<RoutingStrategy, string> = {
  plan_first: 'Plan first, Bedrock fallback',
  bedrock_only: 'Bedrock only',
  plan_only: 'Plan only (no fallback)',
};

export const STATUS_STYLES: Record<UserStatus | 'rotating' | 'revoked' | 'expired', string> = {
  active: 'bg-emerald-100 dark:bg-emerald-900 text-emerald-800 dark:text-emerald-200',
  inactive: 'bg-amber-100 dark:bg-amber-900 text-amber-800 dark:text-amber-200',
  deleted: 'bg-slate-200 dark:bg-slate-700 text-slate-700 dark:text-slate-200',
  rotating: 'bg-sky-100 dark:bg-sky-900 text-sky-800 dark:text-sky-200',
  revoked: 'bg-slate-200 dark:bg-slate-700 text-slate-700 dark:text-slate-200',
  expired: 'bg-amber-100 dark:bg-amber-900 text-amber-800 dark:text-amber-200',
};

/** Why Bedrock served a request (usage events' fallback reason). */
export const FALLBACK_REASON_LABELS: Record<string, string> = {
  rate_limited: 'Rate limited',
  usage_limit: 'Plan usage limit',
  overloaded: 'Anthropic overloaded',
  server_error: 'Anthropic server error',
  connect_error: 'Anthropic unreachable',
  first_byte_timeout: 'First byte timeout',
  circuit_open: 'Circuit breaker open',
  plan_threshold: 'Plan threshold',
  session_sticky: 'Session kept on Bedrock',
};

/** A fallback reason for people; null is Bedrock traffic that fell back from nothing (Bedrock-only routing). */
export function reasonLabel(reason: string | null): string {
  if (reason === null) return 'Bedrock routing (no fallback)';
  return FALLBACK_REASON_LABELS[reason] ?? reason;
}

/** Why a wanted fallback could not happen (the request log's fallback_unavailable). */
export const FALLBACK_UNAVAILABLE_LABELS: Record<string, string> = {
  no_bedrock_key: 'No Bedrock key',
  no_mapping: 'No Bedrock mapping',
};

/** How a request ended (the request log's outcome). */
export const OUTCOME_LABELS: Record<string, string> = {
  completed: 'Completed',
  upstream_error: 'Upstream error',
  rejected: 'Rejected by the proxy',
  aborted: 'Aborted by the client',
  failed: 'Failed',
};

/**
 * A circuit breaker's state for people. A key without a Bedrock key never opens its breaker: its
 * requests stay on Anthropic whatever happens, and the label says why (issue #17) rather than
 * "Closed" or "Open (Bedrock)".
 */
export function breakerLabel(breaker: { state: string; fallback_unavailable?: 'no_bedrock_key' | null }): string {
  if (breaker.fallback_unavailable === 'no_bedrock_key') return 'No Bedrock key';
  if (breaker.state === 'closed') return 'Closed (Anthropic first)';
  if (breaker.state === 'open') return 'Open (Bedrock)';
  return breaker.state;
}

/** The colour of a breaker's label: green closed, amber without a Bedrock key, red otherwise. */
export function breakerStyle(breaker: { state: string; fallback_unavailable?: 'no_bedrock_key' | null }): string {
  if (breaker.fallback_unavailable === 'no_bedrock_key') return 'font-medium text-amber-800 dark:text-amber-200';
  return breaker.state === 'closed' ? 'text-emerald-700 dark:text-emerald-400' : 'font-medium text-red-700 dark:text-red-400';
}
