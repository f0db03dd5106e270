import type { TokenUsage } from '../anthropic/usage.ts';

export type UsageOutcome = 'completed' | 'upstream_error' | 'rejected' | 'aborted' | 'failed';

/** One proxied request, as recorded in usage_events. Built once, when the response is over. */
export interface UsageEvent extends TokenUsage {
  requestId: string;
  occurredAt: Date;
  userId: string;
  accessKeyId: string;
  endpoint: 'messages' | 'count_tokens';
  provider: 'plan' | 'bedrock';
  isFallback: boolean;
  fallbackReason: string | null;
  requestedModel: string | null;
  servedModel: string | null;
  stream: boolean;
  statusCode: number;
  /**
   * completed: the upstream answered 2xx and the client got all of it; upstream_error: the upstream
   * answered an error or could not be reached; rejected: the proxy refused the request itself;
   * aborted: the client went away; failed: the upstream broke off mid-response.
   */
  outcome: UsageOutcome;
  errorType: string | null;
  /**
   * The proxy's stable code for its own answer (PROXY_OVERLOADED, BEDROCK_THROTTLED, BUDGET_EXCEEDED …);
   * null when the upstream's answer was passed on. Metrics count BUDGET_* codes as budget rejections.
   */
  errorCode?: string | null;
  stopReason: string | null;
  latencyMs: number;
  ttfbMs: number | null;
  upstreamRequestId: string | null;
  /** Bedrock: the AWS region the call went to (prices can differ by region). */
  region?: string | null;
  /** Bedrock with a budget: the reservation this request held, settled when the event is stored. */
  budgetReservationId?: number | null;
  /** What Anthropic's answer said of the developer's Plan (unified limit headers); null: nothing. */
  planStatus?: string | null;
  plan5hUtilization?: number | null;
  plan7dUtilization?: number | null;
  /** The first request of a Claude Code session on this provider after the other one served it. */
  providerSwitch?: boolean;
  /**
   * A fallback to Bedrock was wanted (Anthropic refused or failed) but could not happen, so Anthropic's
   * answer went to the client: no_bedrock_key (the key has none) or no_mapping (no Bedrock model).
   */
  fallbackUnavailable?: FallbackUnavailable | null;
}

export type FallbackUnavailable = 'no_bedrock_key' | 'no_mapping';
