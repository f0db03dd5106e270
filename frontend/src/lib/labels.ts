import type { RoutingStrategy, UserStatus } from './types.ts';

export const ROUTING_LABELS: Record<RoutingStrategy, string> = {
  plan_first: 'Plan first, Bedrock fallback',
  bedrock_only: 'Bedrock only',
  plan_only: 'Plan only (no fallback)',
};

export const STATUS_STYLES: Record<UserStatus | 'rotating' | 'revoked', string> = {
  active: 'bg-emerald-100 text-emerald-800',
  inactive: 'bg-amber-100 text-amber-800',
  deleted: 'bg-slate-200 text-slate-700',
  rotating: 'bg-sky-100 text-sky-800',
  revoked: 'bg-slate-200 text-slate-700',
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
