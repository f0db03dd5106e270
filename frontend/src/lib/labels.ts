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
