import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventCost, PricedUsageEvent } from '../../src/accounting/cost.ts';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { createUsageRepository } from '../../src/db/usage-repository.ts';
import { createUserRepository } from '../../src/db/user-repository.ts';
import { usageEvent } from '../unit/accounting/fixtures.ts';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/db.ts';

let database: TestDatabase;
let owner: { userId: string; accessKeyId: string };

beforeAll(async () => {
  database = await openTestDatabase();
  const user = await createUserRepository(database.db).create({ name: 'usage-writer', description: null });
  const key = await createAccessKeyRepository(database.db).create({ userId: user.id, keyHash: 'e'.repeat(64), keyPrefix: 'ak_usag', bedrockRegion: null });
  owner = { userId: user.id, accessKeyId: key.id };
});
afterAll(() => database.dispose());

const rowsOf = async <T>(query: ReturnType<typeof sql>): Promise<T[]> => ((await database.db.execute(query)) as unknown as { rows: T[] }).rows;

// Costs with the most decimals a cost can have (12), as the recorder hands them over.
const cost: EventCost = {
  totalUsd: '1234.567890123457',
  parts: { input: '1234.000000000001', output: '0.567890123456', cacheRead: '0.00', cacheWrite5m: '0.000000000000', cacheWrite1h: '0' },
  snapshot: {
    pricing: 'bedrock',
    price_id: '7',
    provider: 'bedrock',
    region: 'us-east-1',
    model: 'claude-opus-5-5',
    effective_from: '2025-01-01T00:00:00.000Z',
    tier: 'long_context',
    usd_per_mtok: { input: '4.125', output: '20.00', cache_write_5m: '5.00', cache_write_1h: '8.00', cache_read: '0.20' },
  },
};

describe(`usage repository on ${testDatabaseKind()}`, () => {
  it('stores every column as given: exact decimals, the snapshot as a JSON object, the instant to the millisecond', async () => {
    const event: PricedUsageEvent = {
      ...usageEvent({ ...owner, occurredAt: new Date('2026-11-25T03:04:05.678Z'), provider: 'bedrock', region: 'us-east-1' }),
      inputTokens: 2_000_000_000,
      upstreamRequestId: 'msg_"quoted"\\ünïcode',
      cost,
    };
    await createUsageRepository(database.db).insertBatch([event]);
    const [row] = await rowsOf<Record<string, unknown>>(sql`
      SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at, input_tokens, upstream_request_id, region,
             cost_usd::text AS cost, input_cost_usd::text AS input, output_cost_usd::text AS output,
             cache_read_cost_usd::text AS cache_read, cache_write_5m_cost_usd::text AS cache_5m, cache_write_1h_cost_usd::text AS cache_1h,
             jsonb_typeof(price_snapshot) AS snapshot_type, price_snapshot->'usd_per_mtok'->>'input' AS snapshot_input, price_snapshot->>'tier' AS tier
        FROM usage_events WHERE request_id = ${event.requestId}`);
    expect(row).toEqual({
      at: '2026-11-25T03:04:05.678',
      input_tokens: 2_000_000_000,
      upstream_request_id: 'msg_"quoted"\\ünïcode',
      region: 'us-east-1',
      cost: '1234.567890123457',
      input: '1234.000000000001',
      output: '0.567890123456',
      cache_read: '0.00',
      cache_5m: '0.000000000000',
      cache_1h: '0',
      snapshot_type: 'object',
      snapshot_input: '4.125',
      tier: 'long_context',
    });
  });

  it('stores null as SQL NULL in every nullable column (the snapshot included, not a JSON null)', async () => {
    const event: PricedUsageEvent = {
      ...usageEvent({ ...owner, requestedModel: null, servedModel: null, ttfbMs: null, region: null, budgetReservationId: null }),
      fallbackReason: null,
      errorType: null,
      stopReason: null,
      upstreamRequestId: null,
      cost: null,
    };
    await createUsageRepository(database.db).insertBatch([event]);
    const [row] = await rowsOf<Record<string, boolean>>(sql`
      SELECT fallback_reason IS NULL AS fallback_reason, requested_model IS NULL AS requested_model, served_model IS NULL AS served_model,
             error_type IS NULL AS error_type, stop_reason IS NULL AS stop_reason, cost_usd IS NULL AS cost_usd,
             input_cost_usd IS NULL AS input_cost_usd, output_cost_usd IS NULL AS output_cost_usd, cache_read_cost_usd IS NULL AS cache_read_cost_usd,
             cache_write_5m_cost_usd IS NULL AS cache_write_5m_cost_usd, cache_write_1h_cost_usd IS NULL AS cache_write_1h_cost_usd,
             price_snapshot IS NULL AS price_snapshot, region IS NULL AS region, budget_reservation_id IS NULL AS budget_reservation_id,
             ttfb_ms IS NULL AS ttfb_ms, upstream_request_id IS NULL AS upstream_request_id
        FROM usage_events WHERE request_id = ${event.requestId}`);
    expect(Object.entries(row ?? {}).filter(([, isNull]) => !isNull)).toEqual([]);
    expect(Object.keys(row ?? {})).toHaveLength(16);
  });

  it('stores a request id once, the first of a batch, and counts it once in the rollups, even when replayed', async () => {
    const model = 'claude-dup-test';
    const at = new Date('2026-10-01T12:30:00Z');
    const first: PricedUsageEvent = { ...usageEvent({ ...owner, occurredAt: at, requestedModel: model, servedModel: model, inputTokens: 10 }), cost: null };
    const again: PricedUsageEvent = { ...first, inputTokens: 99 };
    const other: PricedUsageEvent = { ...usageEvent({ ...owner, occurredAt: at, requestedModel: model, servedModel: model, inputTokens: 5 }), cost: null };
    const repository = createUsageRepository(database.db, { timeZone: 'UTC' });
    await repository.insertBatch([first, other, again]);
    await repository.insertBatch([again, other]);

    const stored = await rowsOf<{ input_tokens: number }>(sql`SELECT input_tokens FROM usage_events WHERE request_id = ${first.requestId}`);
    expect(stored).toEqual([{ input_tokens: 10 }]);
    const rollups = await rowsOf<{ granularity: string; requests: string | number; unpriced: string | number; input: string | number }>(sql`
      SELECT granularity, requests, unpriced_requests AS unpriced, input_tokens AS input FROM usage_rollups
       WHERE model = ${model} ORDER BY granularity`);
    expect(rollups.map((r) => [r.granularity, Number(r.requests), Number(r.unpriced), Number(r.input)])).toEqual([
      ['day', 2, 2, 15],
      ['hour', 2, 2, 15],
      ['month', 2, 2, 15],
    ]);
  });

  it('sums a batch into its rollups exactly, bucket by bucket', async () => {
    const model = 'claude-sum-test';
    const part = (input: string): EventCost => ({ ...cost, totalUsd: input, parts: { ...cost.parts, input }, snapshot: { ...cost.snapshot!, model } });
    const events: PricedUsageEvent[] = [
      { ...usageEvent({ ...owner, occurredAt: new Date('2026-09-30T23:59:59.999Z'), servedModel: model }), cost: part('0.000000000001') },
      { ...usageEvent({ ...owner, occurredAt: new Date('2026-10-01T00:00:00.000Z'), servedModel: model }), cost: part('0.100000000002') },
      { ...usageEvent({ ...owner, occurredAt: new Date('2026-10-01T00:59:00.000Z'), servedModel: model }), cost: part('1000000.2') },
    ];
    await createUsageRepository(database.db, { timeZone: 'UTC' }).insertBatch(events);
    const rollups = await rowsOf<{ granularity: string; bucket: string; requests: string | number; input: string }>(sql`
      SELECT granularity, to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS bucket, requests, input_cost_usd::text AS input
        FROM usage_rollups WHERE model = ${model} ORDER BY granularity, bucket_start`);
    expect(rollups.map((r) => [r.granularity, r.bucket, Number(r.requests), r.input])).toEqual([
      ['day', '2026-09-30 00', 1, '0.000000000001'],
      ['day', '2026-10-01 00', 2, '1000000.300000000002'],
      ['hour', '2026-09-30 23', 1, '0.000000000001'],
      ['hour', '2026-10-01 00', 2, '1000000.300000000002'],
      ['month', '2026-09-01 00', 1, '0.000000000001'],
      ['month', '2026-10-01 00', 2, '1000000.300000000002'],
    ]);
  });
});
