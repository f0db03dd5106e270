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
 * `INSERT … SELECT * FROM unnest($1::type[], …)`: one array parameter per column whatever the
 * batch size, so building the statement costs nothing per row (a row-per-VALUES insert of 500
 * events spends most of its time in the query builder) and PostgreSQL plans it once.
 */
function unnest(columns: readonly (readonly [name: string, type: string, values: unknown[]])[]): { names: SQL; rows: SQL } {
  return {
    names: sql.raw(columns.map(([name]) => name).join(', ')),
    rows: sql`SELECT * FROM unnest(${sql.join(
      columns.map(([, type, values]) => sql`${sql.param(values)}::${sql.raw(type)}[]`),
      sql`, `,
    )})`,
  };
}

function eventColumns(events: readonly PricedUsageEvent[]) {
  const col = <T>(pick: (e: PricedUsageEvent) => T) => events.map(pick);
  return [
    ['request_id', 'text', col((e) => e.requestId)],
    ['occurred_at', 'timestamptz', col((e) => e.occurredAt.toISOString())],
    ['user_id', 'uuid', col((e) => e.userId)],
    ['access_key_id', 'uuid', col((e) => e.accessKeyId)],
    ['endpoint', 'text', col((e) => e.endpoint)],
    ['provider', 'text', col((e) => e.provider)],
    ['is_fallback', 'boolean', col((e) => e.isFallback)],
    ['fallback_reason', 'text', col((e) => e.fallbackReason)],
    ['requested_model', 'text', col((e) => e.requestedModel)],
    ['served_model', 'text', col((e) => e.servedModel)],
    ['stream', 'boolean', col((e) => e.stream)],
    ['status_code', 'integer', col((e) => e.statusCode)],
    ['outcome', 'text', col((e) => e.outcome)],
    ['error_type', 'text', col((e) => e.errorType)],
    ['stop_reason', 'text', col((e) => e.stopReason)],
    ['input_tokens', 'integer', col((e) => e.inputTokens)],
    ['output_tokens', 'integer', col((e) => e.outputTokens)],
    ['cache_read_tokens', 'integer', col((e) => e.cacheReadTokens)],
    ['cache_write_5m_tokens', 'integer', col((e) => e.cacheWrite5mTokens)],
    ['cache_write_1h_tokens', 'integer', col((e) => e.cacheWrite1hTokens)],
    ['cost_usd', 'numeric', col((e) => e.cost?.totalUsd ?? null)],
    ['input_cost_usd', 'numeric', col((e) => e.cost?.parts.input ?? null)],
    ['output_cost_usd', 'numeric', col((e) => e.cost?.parts.output ?? null)],
    ['cache_read_cost_usd', 'numeric', col((e) => e.cost?.parts.cacheRead ?? null)],
    ['cache_write_5m_cost_usd', 'numeric', col((e) => e.cost?.parts.cacheWrite5m ?? null)],
    ['cache_write_1h_cost_usd', 'numeric', col((e) => e.cost?.parts.cacheWrite1h ?? null)],
    ['price_snapshot', 'jsonb', col((e) => (e.cost?.snapshot ? JSON.stringify(e.cost.snapshot) : null))],
    ['region', 'text', col((e) => e.region ?? null)],
    ['budget_reservation_id', 'bigint', col((e) => e.budgetReservationId ?? null)],
    ['latency_ms', 'integer', col((e) => e.latencyMs)],
    ['ttfb_ms', 'integer', col((e) => e.ttfbMs)],
    ['upstream_request_id', 'text', col((e) => e.upstreamRequestId)],
  ] as const;
}

// Rollup counters and sums: added to the row when it exists.
const ROLLUP_SUMS: readonly (readonly [name: string, type: string, pick: (r: RollupRow) => number | string])[] = [
  ['requests', 'bigint', (r: RollupRow) => r.requests],
  ['unpriced_requests', 'bigint', (r: RollupRow) => r.unpricedRequests],
  ['input_tokens', 'bigint', (r: RollupRow) => r.inputTokens],
  ['output_tokens', 'bigint', (r: RollupRow) => r.outputTokens],
  ['cache_read_tokens', 'bigint', (r: RollupRow) => r.cacheReadTokens],
  ['cache_write_5m_tokens', 'bigint', (r: RollupRow) => r.cacheWrite5mTokens],
  ['cache_write_1h_tokens', 'bigint', (r: RollupRow) => r.cacheWrite1hTokens],
  ['input_cost_usd', 'numeric', (r: RollupRow) => r.inputCostUsd],
  ['output_cost_usd', 'numeric', (r: RollupRow) => r.outputCostUsd],
  ['cache_read_cost_usd', 'numeric', (r: RollupRow) => r.cacheReadCostUsd],
  ['cache_write_5m_cost_usd', 'numeric', (r: RollupRow) => r.cacheWrite5mCostUsd],
  ['cache_write_1h_cost_usd', 'numeric', (r: RollupRow) => r.cacheWrite1hCostUsd],
];

function rollupStatement(rows: readonly RollupRow[]): SQL {
  const { names, rows: values } = unnest([
    ['granularity', 'text', rows.map((r) => r.granularity)],
    ['bucket_start', 'timestamptz', rows.map((r) => r.bucketStart.toISOString())],
    ['user_id', 'uuid', rows.map((r) => r.userId)],
    ['access_key_id', 'uuid', rows.map((r) => r.accessKeyId)],
    ['provider', 'text', rows.map((r) => r.provider)],
    ['model', 'text', rows.map((r) => r.model)],
    ...ROLLUP_SUMS.map(([name, type, pick]) => [name, type, rows.map(pick)] as const),
  ]);
  // unnest keeps the array order, so rows are locked in the order rollupsFor sorted them.
  return sql`INSERT INTO usage_rollups AS r (${names}) ${values}
    ON CONFLICT (granularity, bucket_start, user_id, access_key_id, provider, model) DO UPDATE SET
    ${sql.raw(ROLLUP_SUMS.map(([name]) => `${name} = r.${name} + EXCLUDED.${name}`).join(', '))}`;
}

export function createUsageRepository(db: Db, options: { timeZone?: string } = {}): UsageRepository {
  const timeZone = options.timeZone ?? 'Asia/Seoul';
  return {
    async insertBatch(events) {
      if (events.length === 0) return;
      await db.transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        const { names, rows } = unnest(eventColumns(events));
        const result = await tx.execute(sql`INSERT INTO usage_events (${names}) ${rows} ON CONFLICT (request_id) DO NOTHING RETURNING request_id`);
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
