// Shared by the backend's metrics emitter and the infra alarm/dashboard, so both name the same metric.

/** CloudWatch namespace of every metric the proxy emits (embedded metric format on stdout). */
export const METRIC_NAMESPACE = 'ClaudeCodeProxy';

/**
 * Metric names. Each is emitted at least once with no dimensions (an empty dimension set) besides
 * any dimensioned copies: the alarm and the dashboard read those dimensionless aggregates.
 */
export const METRICS = {
  RequestCount: 'RequestCount',
  ErrorCount: 'ErrorCount',
  /** Requests Bedrock served (outcome completed) after Anthropic failed or the key's circuit was open. */
  FallbackCount: 'FallbackCount',
  /** Fallbacks Bedrock did not serve: it failed or refused, or the client went away. */
  FailedFallbacks: 'FailedFallbacks',
  BudgetRejections: 'BudgetRejections',
  /** Milliseconds from request received to response finished. */
  Latency: 'Latency',
  /** Milliseconds to the first byte sent to the client. */
  TTFB: 'TTFB',
  InputTokens: 'InputTokens',
  OutputTokens: 'OutputTokens',
  CacheReadTokens: 'CacheReadTokens',
  CacheWriteTokens: 'CacheWriteTokens',
  CostUSD: 'CostUSD',
  /** 1 each time an access key's circuit opens (Plan upstream considered down for that key). */
  CircuitOpen: 'CircuitOpen',
  /** Requests Bedrock served because the developer's Plan window was at its limit or their threshold. */
  PlanLimitFallbacks: 'PlanLimitFallbacks',
  /** Turns that moved a Claude Code session to the other provider (each costs a prompt-cache write). */
  ProviderSwitches: 'ProviderSwitches',
  /** Requests whose Anthropic answer called for a fallback that could not happen (no Bedrock key, no mapping). */
  FallbackUnavailable: 'FallbackUnavailable',
  /** Gauges, per task at each flush: keys parked on Bedrock now, and the highest Plan utilization read. */
  PlanKeysParked: 'PlanKeysParked',
  PlanUtilization5hMax: 'PlanUtilization5hMax',
  PlanUtilization7dMax: 'PlanUtilization7dMax',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];
