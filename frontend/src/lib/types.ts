// The admin API's JSON, as backend/src/admin/*.ts answers it (money: exact decimal strings).

export type UserStatus = 'active' | 'inactive' | 'deleted';
export type RoutingStrategy = 'plan_first' | 'bedrock_only' | 'plan_only';
export type Provider = 'plan' | 'bedrock';

export interface Session {
  username: string;
  expires_at: string;
}

export interface User {
  id: string;
  name: string;
  description: string | null;
  status: UserStatus;
  routing_strategy: RoutingStrategy;
  monthly_budget_usd: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface AccessKey {
  id: string;
  user_id: string;
  key_prefix: string;
  status: 'active' | 'rotating' | 'revoked';
  bedrock_region: string | null;
  created_at: string;
  revoked_at: string | null;
  rotation_expires_at: string | null;
  has_bedrock_key: boolean;
}

export interface IssuedKey extends AccessKey {
  raw_key: string;
  replaces?: { id: string; rotation_expires_at: string };
}

export interface BedrockKeyStatus {
  access_key_id: string;
  configured: true;
  last4: string;
  encryption: string;
  created_at: string;
  updated_at: string;
}

export interface Breaker {
  access_key_id: string;
  state: string;
  failures: number;
  reason: string | null;
  opened_at: string | null;
  retry_at: string | null;
}

export interface BudgetStatus {
  user_id: string;
  monthly_budget_usd: string | null;
  spent_usd: string;
  reserved_usd: string;
  remaining_usd: string | null;
  percent_used: number | null;
  period_start: string;
  period_end: string;
  timezone: string;
}

export interface UsageTotals {
  requests: number;
  unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cost_usd: string;
  input_cost_usd: string;
  output_cost_usd: string;
  cache_read_cost_usd: string;
  cache_write_cost_usd: string;
  cache_write_5m_cost_usd: string;
  cache_write_1h_cost_usd: string;
}

export interface ReportPeriod {
  start: string;
  /** Exclusive. */
  end: string;
  timezone: string;
}

export interface UsageReport {
  period: ReportPeriod;
  bucket: 'hour' | 'day' | 'month';
  totals: UsageTotals;
  buckets: (UsageTotals & { start: string })[];
}

export interface TopUsers {
  period: ReportPeriod;
  by: 'tokens' | 'cost';
  items: (UsageTotals & { user_id: string; name: string | null; total_tokens: number })[];
}

export interface CostBreakdown {
  period: ReportPeriod;
  totals: UsageTotals;
  items: (UsageTotals & { provider: Provider; model: string })[];
}

export interface FallbackReport {
  period: ReportPeriod;
  requests: number;
  fallback_requests: number;
  fallback_rate: number | null;
  reasons: { reason: string | null; requests: number }[];
}

export interface PriceRates {
  input_usd_per_mtok: string;
  output_usd_per_mtok: string;
  cache_write_5m_usd_per_mtok: string;
  cache_write_1h_usd_per_mtok: string;
  cache_read_usd_per_mtok: string;
}

export interface Price extends PriceRates {
  id: string;
  provider: 'anthropic' | 'bedrock';
  region: string | null;
  model: string;
  long_context: (PriceRates & { threshold_tokens: number }) | null;
  effective_from: string;
  in_effect: boolean;
}

export interface ModelMapping {
  model: string;
  base_id: string;
  geographies: string[];
  created_at: string;
  updated_at: string;
}

export interface ModelMappings {
  items: ModelMapping[];
  defaults: { model: string; base_id: string; geographies: string[] }[];
}

export interface AuditEntry {
  id: number;
  occurred_at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  request_id: string | null;
}
