import { bigint, boolean, char, customType, doublePrecision, integer, jsonb, numeric, pgTable, primaryKey, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

// Mirrors migrations/*.sql (the SQL files are the source of truth; a test checks they agree).

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  description: text('description'),
  status: text('status', { enum: ['active', 'inactive', 'deleted'] }).notNull().default('active'),
  routingStrategy: text('routing_strategy', { enum: ['plan_first', 'bedrock_only', 'plan_only'] }).notNull().default('plan_first'),
  monthlyBudgetUsd: numeric('monthly_budget_usd'),
  maxRequestsPerMinute: integer('max_requests_per_minute'),
  maxInFlight: integer('max_in_flight'),
  planSwitchThreshold: doublePrecision('plan_switch_threshold'),
  planOverage: text('plan_overage', { enum: ['stay', 'move'] }).notNull().default('move'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
  /** The identity provider's name for the person (0010): a first company sign-in links to it. */
  email: text('email'),
});

export const accessKeys = pgTable('access_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id').notNull().references(() => users.id),
  keyHash: char('key_hash', { length: 64 }).notNull().unique(),
  keyPrefix: text('key_prefix').notNull(),
  status: text('status', { enum: ['active', 'rotating', 'revoked'] }).notNull().default('active'),
  bedrockRegion: text('bedrock_region'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  rotationExpiresAt: timestamp('rotation_expires_at', { withTimezone: true }),
});

export const usageEvents = pgTable('usage_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  requestId: text('request_id').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  userId: uuid('user_id').notNull().references(() => users.id),
  accessKeyId: uuid('access_key_id').notNull().references(() => accessKeys.id),
  endpoint: text('endpoint', { enum: ['messages', 'count_tokens'] }).notNull(),
  provider: text('provider', { enum: ['plan', 'bedrock'] }).notNull(),
  isFallback: boolean('is_fallback').notNull().default(false),
  fallbackReason: text('fallback_reason'),
  requestedModel: text('requested_model'),
  servedModel: text('served_model'),
  stream: boolean('stream').notNull(),
  statusCode: integer('status_code').notNull(),
  outcome: text('outcome', { enum: ['completed', 'upstream_error', 'rejected', 'aborted', 'failed'] }).notNull(),
  errorType: text('error_type'),
  stopReason: text('stop_reason'),
  inputTokens: integer('input_tokens').notNull().default(0),
  outputTokens: integer('output_tokens').notNull().default(0),
  cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
  cacheWrite5mTokens: integer('cache_write_5m_tokens').notNull().default(0),
  cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
  costUsd: numeric('cost_usd'),
  priceSnapshot: jsonb('price_snapshot'),
  inputCostUsd: numeric('input_cost_usd'),
  outputCostUsd: numeric('output_cost_usd'),
  cacheReadCostUsd: numeric('cache_read_cost_usd'),
  cacheWrite5mCostUsd: numeric('cache_write_5m_cost_usd'),
  cacheWrite1hCostUsd: numeric('cache_write_1h_cost_usd'),
  region: text('region'),
  budgetReservationId: bigint('budget_reservation_id', { mode: 'number' }),
  latencyMs: integer('latency_ms').notNull(),
  ttfbMs: integer('ttfb_ms'),
  upstreamRequestId: text('upstream_request_id'),
  planStatus: text('plan_status'),
  plan5hUtilization: real('plan_5h_utilization'),
  plan7dUtilization: real('plan_7d_utilization'),
  providerSwitch: boolean('provider_switch').notNull().default(false),
  errorCode: text('error_code'),
  fallbackUnavailable: text('fallback_unavailable'),
});

export const planWindows = pgTable('plan_windows', {
  accessKeyId: uuid('access_key_id').primaryKey().references(() => accessKeys.id),
  userId: uuid('user_id').notNull().references(() => users.id),
  observedAt: timestamp('observed_at', { withTimezone: true }).notNull(),
  limits: jsonb('limits').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const bedrockKeys = pgTable('bedrock_keys', {
  accessKeyId: uuid('access_key_id').primaryKey().references(() => accessKeys.id, { onDelete: 'cascade' }),
  encryptedKey: bytea('encrypted_key').notNull(),
  last4: text('last4').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  rotatedAt: timestamp('rotated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const modelMappings = pgTable('model_mappings', {
  model: text('model').primaryKey(),
  baseId: text('base_id').notNull(),
  geographies: text('geographies').array().notNull().default([]),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const adminAuditLog = pgTable('admin_audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id'),
  before: jsonb('before'),
  after: jsonb('after'),
  ip: text('ip'),
  requestId: text('request_id'),
});

export const adminTokenRevocations = pgTable('admin_token_revocations', {
  jti: text('jti').primaryKey(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }).notNull().defaultNow(),
});

// Admin login attempts (migrations/0007_login_attempts.sql): counted before the password is checked.
export const loginAttempts = pgTable('login_attempts', {
  key: text('key').primaryKey(),
  attempts: bigint('attempts', { mode: 'number' }).array().notNull(),
  maxAttempts: integer('max_attempts').notNull(),
  lastAdmitted: boolean('last_admitted').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

// Money (migrations/0004_money.sql): prices, rollups and Bedrock budgets. Money is numeric, read as strings.

export const modelPrices = pgTable('model_prices', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  provider: text('provider', { enum: ['anthropic', 'bedrock'] }).notNull(),
  region: text('region'),
  model: text('model').notNull(),
  inputUsdPerMtok: numeric('input_usd_per_mtok').notNull(),
  outputUsdPerMtok: numeric('output_usd_per_mtok').notNull(),
  cacheWrite5mUsdPerMtok: numeric('cache_write_5m_usd_per_mtok').notNull(),
  cacheWrite1hUsdPerMtok: numeric('cache_write_1h_usd_per_mtok').notNull(),
  cacheReadUsdPerMtok: numeric('cache_read_usd_per_mtok').notNull(),
  longContextThresholdTokens: integer('long_context_threshold_tokens'),
  longContextInputUsdPerMtok: numeric('long_context_input_usd_per_mtok'),
  longContextOutputUsdPerMtok: numeric('long_context_output_usd_per_mtok'),
  longContextCacheWrite5mUsdPerMtok: numeric('long_context_cache_write_5m_usd_per_mtok'),
  longContextCacheWrite1hUsdPerMtok: numeric('long_context_cache_write_1h_usd_per_mtok'),
  longContextCacheReadUsdPerMtok: numeric('long_context_cache_read_usd_per_mtok'),
  effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const usageRollups = pgTable(
  'usage_rollups',
  {
    granularity: text('granularity', { enum: ['hour', 'day', 'month'] }).notNull(),
    bucketStart: timestamp('bucket_start', { withTimezone: true }).notNull(),
    userId: uuid('user_id').notNull(),
    accessKeyId: uuid('access_key_id').notNull(),
    provider: text('provider', { enum: ['plan', 'bedrock'] }).notNull(),
    model: text('model').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    unpricedRequests: bigint('unpriced_requests', { mode: 'number' }).notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    cacheReadTokens: bigint('cache_read_tokens', { mode: 'number' }).notNull().default(0),
    cacheWrite5mTokens: bigint('cache_write_5m_tokens', { mode: 'number' }).notNull().default(0),
    cacheWrite1hTokens: bigint('cache_write_1h_tokens', { mode: 'number' }).notNull().default(0),
    inputCostUsd: numeric('input_cost_usd').notNull().default('0'),
    outputCostUsd: numeric('output_cost_usd').notNull().default('0'),
    cacheReadCostUsd: numeric('cache_read_cost_usd').notNull().default('0'),
    cacheWrite5mCostUsd: numeric('cache_write_5m_cost_usd').notNull().default('0'),
    cacheWrite1hCostUsd: numeric('cache_write_1h_cost_usd').notNull().default('0'),
  },
  (t) => [primaryKey({ columns: [t.granularity, t.bucketStart, t.userId, t.accessKeyId, t.provider, t.model] })],
);

export const budgetLedgers = pgTable(
  'budget_ledgers',
  {
    userId: uuid('user_id').notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    spentUsd: numeric('spent_usd').notNull().default('0'),
    reservedUsd: numeric('reserved_usd').notNull().default('0'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.periodStart] })],
);

export const budgetReservations = pgTable('budget_reservations', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  userId: uuid('user_id').notNull(),
  periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
  amountUsd: numeric('amount_usd').notNull(),
  requestId: text('request_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** One row (migration 0009): what the database keeps whatever the environment, e.g. the zone its rollups are cut in. */
export const settings = pgTable('settings', {
  singleton: boolean('singleton').primaryKey().default(true),
  timeZone: text('time_zone'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Automation tokens (0010; `scim` since 0011): only the SHA-256 of each is kept. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'viewer', 'scim'] }).notNull(),
  tokenHash: char('token_hash', { length: 64 }).notNull().unique(),
  tokenPrefix: text('token_prefix').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const schema = { users, accessKeys, usageEvents, bedrockKeys, modelMappings, adminAuditLog, adminTokenRevocations, modelPrices, usageRollups, budgetLedgers, budgetReservations, planWindows, loginAttempts, settings, apiTokens };
export type Schema = typeof schema;
