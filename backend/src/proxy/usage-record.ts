import type { FallbackUnavailable, UsageEvent, UsageOutcome } from '../accounting/usage-event.ts';
import { emptyUsage, type TokenUsage } from '../anthropic/usage.ts';
import type { UnifiedLimits } from '../anthropic/unified-limits.ts';
import type { KeyContext } from './access-keys.ts';
import type { FallbackReason } from './plan-verdict.ts';
import type { TapResult } from './sse-tap.ts';

/** How a request ended, as the code that ended it knows it. */
export interface Outcome {
  status: number;
  outcome: UsageOutcome;
  errorType?: string | null;
  code?: string;
  /** What the tap read from Anthropic's bytes. */
  tap?: TapResult;
  /** Tokens Bedrock reported. */
  usage?: TokenUsage;
  servedModel?: string;
  stopReason?: string | null;
  upstreamRequestId?: string | null;
}

/** What the request itself says, known before it ends. */
export interface RequestFacts {
  requestId: string;
  occurredAt: Date;
  key: KeyContext;
  endpoint: UsageEvent['endpoint'];
  requestedModel: string | null;
  stream: boolean;
  provider: 'plan' | 'bedrock';
  fallbackReason: FallbackReason | null;
  /** Anthropic's answer called for a fallback that could not happen: why. */
  fallbackUnavailable: FallbackUnavailable | null;
  /** The Bedrock region of this key (BEDROCK_REGION unless the key has its own). */
  region: string;
  budgetReservationId: number | null;
  /** Anthropic's unified limit headers on this request's answer, when it had them. */
  planLimits: UnifiedLimits | null;
  providerSwitch: boolean;
  latencyMs: number;
  ttfbMs: number | null;
}

/** The one usage event of a request. Pure. */
export function usageEventOf(facts: RequestFacts, o: Outcome): UsageEvent {
  const usage = o.usage ?? o.tap?.usage ?? emptyUsage();
  const counts = facts.endpoint === 'count_tokens' ? emptyUsage() : usage; // count_tokens consumes nothing
  return {
    requestId: facts.requestId,
    occurredAt: facts.occurredAt,
    userId: facts.key.userId,
    accessKeyId: facts.key.accessKeyId,
    endpoint: facts.endpoint,
    provider: facts.provider,
    isFallback: facts.fallbackReason !== null,
    fallbackReason: facts.fallbackReason,
    requestedModel: facts.requestedModel,
    servedModel: o.servedModel ?? o.tap?.model ?? (o.outcome === 'completed' ? facts.requestedModel : null),
    stream: facts.stream,
    statusCode: o.status,
    outcome: o.outcome,
    errorType: o.errorType ?? null,
    errorCode: o.code ?? null,
    stopReason: o.stopReason ?? o.tap?.stopReason ?? null,
    ...counts,
    latencyMs: facts.latencyMs,
    ttfbMs: facts.ttfbMs,
    upstreamRequestId: o.upstreamRequestId ?? null,
    region: facts.provider === 'bedrock' ? facts.region : null,
    budgetReservationId: facts.budgetReservationId,
    planStatus: facts.planLimits?.status ?? null,
    plan5hUtilization: facts.planLimits?.windows.five_hour?.utilization ?? null,
    plan7dUtilization: facts.planLimits?.windows.seven_day?.utilization ?? null,
    providerSwitch: facts.providerSwitch,
    fallbackUnavailable: facts.fallbackUnavailable,
  };
}

/** The access log line of a request: its event, without what the log must not repeat. */
export function accessLineOf(event: UsageEvent, keyPrefix: string, traceId: string | undefined): Record<string, unknown> {
  return {
    reqId: event.requestId,
    upstreamRequestId: event.upstreamRequestId,
    userId: event.userId,
    keyPrefix,
    provider: event.provider,
    fallback: event.fallbackReason,
    fallbackUnavailable: event.fallbackUnavailable ?? undefined,
    endpoint: event.endpoint,
    model: event.requestedModel,
    servedModel: event.servedModel,
    stream: event.stream,
    status: event.statusCode,
    outcome: event.outcome,
    code: event.errorCode ?? undefined,
    traceId,
    latencyMs: event.latencyMs,
    ttfbMs: event.ttfbMs,
    inputTokens: event.inputTokens,
    outputTokens: event.outputTokens,
    cacheReadTokens: event.cacheReadTokens,
    cacheWriteTokens: event.cacheWrite5mTokens + event.cacheWrite1hTokens,
  };
}
