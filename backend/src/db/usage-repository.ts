import { sql, type SQL } from 'drizzle-orm';
import type { PricedUsageEvent } from '../accounting/cost.ts';
import { bedrockSpendFor, rollupsFor, type RollupRow } from '../accounting/rollups.ts';
import { createBudgetRepository, type LedgerDelta } from './budget-repository.ts';
import type { Db } from './client.ts';

export interface UsageRepository {
  /**
   * Stores a batch in one transaction: the events, the rollups of the events actually inserted,
   * and for those their Bedrock spend and budget settlements. Events already stored (same request
   * id) are skipped and count nowhere, so a replayed batch is harmless.
   */
  insertBatch(events: PricedUsageEvent[]): Promise<void>;
}

/**
 * `INSERT … SELECT … FROM jsonb_to_recordset($1)`: the whole batch travels as one JSON text
 * parameter, built by the native JSON.stringify, so the driver serialises nothing per value (an
 * array parameter per column cost node-postgres ~100 µs of CPU per event, blocking the event
 * loop). Decimal amounts go as JSON strings, so they reach `numeric` exactly; instants as ISO
 * strings; null is SQL NULL. Rows come out in array order (WITH ORDINALITY … ORDER BY), which is
 * the order rollups lock theirs in.
 *
 * `types` names each column of `toRow`'s objects with its SQL type (the compiler checks they match).
 */
function fromJson<T, R extends object>(types: Record<keyof R & string, string>, toRow: (item: T) => R, items: readonly T[]): { names: SQL; select: SQL } {
  const columns = Object.entries(types);
  const names = columns.map(([name]) => name).join(', ');
  const definitions = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  return {
    names: sql.raw(names),
    select: sql`SELECT ${sql.raw(names)} FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(items.map(toRow))}::jsonb) AS (${sql.raw(definitions)}))
      WITH ORDINALITY AS x(${sql.raw(names)}, n) ORDER BY n`,
  };
}

// One object literal per row: fast to build and to stringify.
const eventRow = (e: PricedUsageEvent) => ({
  request_id: e.requestId,
  occurred_at: e.occurredAt.toISOString(), // cheaper than JSON.stringify calling Date#toJSON
  user_id: e.userId,
  access_key_id: e.accessKeyId,
  endpoint: e.endpoint,
  provider: e.provider,
  is_fallback: e.isFallback,
  fallback_reason: e.fallbackReason,
  requested_model: e.requestedModel,
  served_model: e.servedModel,
  stream: e.stream,
  status_code: e.statusCode,
  outcome: e.outcome,
  error_type: e.errorType,
  stop_reason: e.stopReason,
  input_tokens: e.inputTokens,
  output_tokens: e.outputTokens,
  cache_read_tokens: e.cacheReadTokens,
  cache_write_5m_tokens: e.cacheWrite5mTokens,
  cache_write_1h_tokens: e.cacheWrite1hTokens,
  cost_usd: e.cost?.totalUsd ?? null,
  input_cost_usd: e.cost?.parts.input ?? null,
  output_cost_usd: e.cost?.parts.output ?? null,
  cache_read_cost_usd: e.cost?.parts.cacheRead ?? null,
  cache_write_5m_cost_usd: e.cost?.parts.cacheWrite5m ?? null,
  cache_write_1h_cost_usd: e.cost?.parts.cacheWrite1h ?? null,
  // The snapshot object itself: a JSON value, stored as such in the jsonb column.
  price_snapshot: e.cost?.snapshot ?? null,
  region: e.region ?? null,
  budget_reservation_id: e.budgetReservationId ?? null,
  latency_ms: e.latencyMs,
  ttfb_ms: e.ttfbMs,
  upstream_request_id: e.upstreamRequestId,
  plan_status: e.planStatus ?? null,
  plan_5h_utilization: e.plan5hUtilization ?? null,
  plan_7d_utilization: e.plan7dUtilization ?? null,
  provider_switch: e.providerSwitch ?? false,
  error_code: e.errorCode ?? null,
  fallback_unavailable: e.fallbackUnavailable ?? null,
});

const EVENT_TYPES: Record<keyof ReturnType<typeof eventRow>, string> = {
  request_id: 'text',
  occurred_at: 'timestamptz',
  user_id: 'uuid',
  access_key_id: 'uuid',
  endpoint: 'text',
  provider: 'text',
  is_fallback: 'boolean',
  fallback_reason: 'text',
  requested_model: 'text',
  served_model: 'text',
  stream: 'boolean',
  status_code: 'integer',
  outcome: 'text',
  error_type: 'text',
  stop_reason: 'text',
  input_tokens: 'integer',
  output_tokens: 'integer',
  cache_read_tokens: 'integer',
  cache_write_5m_tokens: 'integer',
  cache_write_1h_tokens: 'integer',
  cost_usd: 'numeric',
  input_cost_usd: 'numeric',
  output_cost_usd: 'numeric',
  cache_read_cost_usd: 'numeric',
  cache_write_5m_cost_usd: 'numeric',
  cache_write_1h_cost_usd: 'numeric',
  price_snapshot: 'jsonb',
  region: 'text',
  budget_reservation_id: 'bigint',
  latency_ms: 'integer',
  ttfb_ms: 'integer',
  upstream_request_id: 'text',
  plan_status: 'text',
  plan_5h_utilization: 'real',
  plan_7d_utilization: 'real',
  provider_switch: 'boolean',
  error_code: 'text',
  fallback_unavailable: 'text',
};

const rollupRow = (r: RollupRow) => ({
  granularity: r.granularity,
  bucket_start: r.bucketStart.toISOString(),
  user_id: r.userId,
  access_key_id: r.accessKeyId,
  provider: r.provider,
  model: r.model,
  requests: r.requests,
  unpriced_requests: r.unpricedRequests,
  input_tokens: r.inputTokens,
  output_tokens: r.outputTokens,
  cache_read_tokens: r.cacheReadTokens,
  cache_write_5m_tokens: r.cacheWrite5mTokens,
  cache_write_1h_tokens: r.cacheWrite1hTokens,
  input_cost_usd: r.inputCostUsd,
  output_cost_usd: r.outputCostUsd,
  cache_read_cost_usd: r.cacheReadCostUsd,
  cache_write_5m_cost_usd: r.cacheWrite5mCostUsd,
  cache_write_1h_cost_usd: r.cacheWrite1hCostUsd,
});

// Rollup counters and sums: added to the row when it exists.
const ROLLUP_SUMS = {
  requests: 'bigint',
  unpriced_requests: 'bigint',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cache_read_tokens: 'bigint',
  cache_write_5m_tokens: 'bigint',
  cache_write_1h_tokens: 'bigint',
  input_cost_usd: 'numeric',
  output_cost_usd: 'numeric',
  cache_read_cost_usd: 'numeric',
  cache_write_5m_cost_usd: 'numeric',
  cache_write_1h_cost_usd: 'numeric',
} as const;

const ROLLUP_TYPES: Record<keyof ReturnType<typeof rollupRow>, string> = {
  granularity: 'text',
  bucket_start: 'timestamptz',
  user_id: 'uuid',
  access_key_id: 'uuid',
  provider: 'text',
  model: 'text',
  ...ROLLUP_SUMS,
};

function rollupStatement(rows: readonly RollupRow[]): SQL {
  const { names, select } = fromJson(ROLLUP_TYPES, rollupRow, rows);
  // Rows are inserted, and so locked, in the order rollupsFor sorted them (see fromJson).
  return sql`INSERT INTO usage_rollups AS r (${names}) ${select}
    ON CONFLICT (granularity, bucket_start, user_id, access_key_id, provider, model) DO UPDATE SET
    ${sql.raw(Object.keys(ROLLUP_SUMS).map((name) => `${name} = r.${name} + EXCLUDED.${name}`).join(', '))}`;
}

export function createUsageRepository(db: Db, options: { timeZone?: string } = {}): UsageRepository {
  const timeZone = options.timeZone ?? 'UTC';
  return {
    async insertBatch(events) {
      if (events.length === 0) return;
      await db.transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        const { names, select } = fromJson(EVENT_TYPES, eventRow, events);
        const result = await tx.execute(sql`INSERT INTO usage_events (${names}) ${select} ON CONFLICT (request_id) DO NOTHING RETURNING request_id`);
        const inserted = (result as unknown as { rows: { request_id: string }[] }).rows;
        if (inserted.length === 0) return;

        // Only what this statement inserted counts (the first of any duplicate within the batch).
        const fresh = new Set(inserted.map((r) => r.request_id));
        const stored = events.filter((e) => fresh.delete(e.requestId));

        const rollups = rollupsFor(stored, timeZone);
        if (rollups.length > 0) await tx.execute(rollupStatement(rollups));

        // Budgets: every Bedrock cost joins its user's month, and each request's reservation is
        // released (if the sweeper has not already released it as expired).
        const budgets = createBudgetRepository(tx);
        const reservationIds = stored.map((e) => e.budgetReservationId).filter((id): id is number => typeof id === 'number');
        const released = await budgets.takeReservations(reservationIds);
        const deltas: LedgerDelta[] = [
          ...bedrockSpendFor(stored, timeZone).map((s) => ({ ...s, releasedUsd: '0' })),
          ...released.map((r) => ({ userId: r.userId, periodStart: r.periodStart, spentUsd: '0', releasedUsd: r.amountUsd })),
        ];
        await budgets.applyLedgerDeltas(deltas);
      });
    },
  };
}
