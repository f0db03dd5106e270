import { describe, expect, it } from 'vitest';
import { costEvent, type PricedUsageEvent } from '../../../src/accounting/cost.ts';
import { bedrockSpendFor, reportingModel, rollupsFor } from '../../../src/accounting/rollups.ts';
import type { UsageEvent } from '../../../src/accounting/usage-event.ts';
import { shippedBook, usage, usageEvent } from './fixtures.ts';

const book = shippedBook();
const priced = (e: UsageEvent): PricedUsageEvent => ({ ...e, cost: costEvent(book, e) });
const SEOUL = 'Asia/Seoul';

describe('rollups of a batch', () => {
  it('sum each hour, day and month bucket per user, key, provider and model, with the five cost parts', () => {
    const events = [
      priced(usageEvent({ occurredAt: new Date('2026-11-25T03:10:00Z'), ...usage({ inputTokens: 1_000_000 }) })), // $4.00
      priced(usageEvent({ occurredAt: new Date('2026-11-25T03:50:00Z'), ...usage({ outputTokens: 1_000_000, cacheWrite1hTokens: 10 }) })), // $20 + $0.00008
      priced(usageEvent({ occurredAt: new Date('2026-11-25T04:00:00Z'), ...usage({ cacheReadTokens: 500_000 }) })), // $0.10
    ];
    const rows = rollupsFor(events, SEOUL);
    expect(rows.map((r) => [r.granularity, r.bucketStart.toISOString(), r.requests])).toEqual([
      ['day', '2026-11-24T15:00:00.000Z', 3],
      ['hour', '2026-11-25T03:00:00.000Z', 2],
      ['hour', '2026-11-25T04:00:00.000Z', 1],
      ['month', '2026-10-31T15:00:00.000Z', 3],
    ]);
    const day = rows.find((r) => r.granularity === 'day')!;
    expect(day).toMatchObject({
      provider: 'plan',
      model: 'claude-opus-5-5',
      inputTokens: 1_000_000,
      outputTokens: 1_000_000,
      cacheReadTokens: 500_000,
      cacheWrite1hTokens: 10,
      inputCostUsd: '4.00',
      outputCostUsd: '20.00',
      cacheReadCostUsd: '0.10',
      cacheWrite5mCostUsd: '0.00',
      cacheWrite1hCostUsd: '0.00008',
      unpricedRequests: 0,
    });
  });

  it('put 23:59:59 and 00:00:00 local time in different day buckets', () => {
    const rows = rollupsFor(
      [
        priced(usageEvent({ occurredAt: new Date('2026-11-30T14:59:59Z') })),
        priced(usageEvent({ occurredAt: new Date('2026-11-30T15:00:00Z') })),
      ],
      SEOUL,
    );
    expect(rows.filter((r) => r.granularity === 'day').map((r) => r.bucketStart.toISOString())).toEqual(['2026-11-29T15:00:00.000Z', '2026-11-30T15:00:00.000Z']);
    expect(rows.filter((r) => r.granularity === 'month')).toHaveLength(2);
  });

  it('keep the two 01:00 hours of a DST fall-back apart, in one day and month (hours are summed first, then folded)', () => {
    // New York, 2026-11-01: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z), then 23:30 EST (04:30Z next day).
    const at = ['2026-11-01T05:30:00Z', '2026-11-01T05:45:00Z', '2026-11-01T06:30:00Z', '2026-11-02T04:30:00Z'];
    const rows = rollupsFor(
      at.map((t) => priced(usageEvent({ occurredAt: new Date(t), ...usage({ inputTokens: 1_000_000 }) }))),
      'America/New_York',
    );
    expect(rows.map((r) => [r.granularity, r.bucketStart.toISOString(), r.requests, r.inputCostUsd])).toEqual([
      ['day', '2026-11-01T04:00:00.000Z', 4, '16.00'],
      ['hour', '2026-11-01T05:00:00.000Z', 2, '8.00'],
      ['hour', '2026-11-01T06:00:00.000Z', 1, '4.00'],
      ['hour', '2026-11-02T04:00:00.000Z', 1, '4.00'],
      ['month', '2026-11-01T04:00:00.000Z', 4, '16.00'],
    ]);
  });

  it('count requests whose model had no price apart, and add nothing for their cost', () => {
    const rows = rollupsFor([priced(usageEvent({ servedModel: 'claude-unknown-9', requestedModel: 'claude-unknown-9', ...usage({ inputTokens: 10 }) }))], SEOUL);
    expect(rows[0]).toMatchObject({ requests: 1, unpricedRequests: 1, inputTokens: 10, inputCostUsd: '0.00', model: 'claude-unknown-9' });
  });

  it('group a model under one name whatever the provider called it', () => {
    const bedrock = priced(usageEvent({ provider: 'bedrock', region: 'us-east-1', servedModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', requestedModel: 'claude-sonnet-4-5' }));
    const plan = priced(usageEvent({ servedModel: 'claude-sonnet-4-5-20250929' }));
    expect(reportingModel(bedrock)).toBe('claude-sonnet-4-5');
    expect(reportingModel(plan)).toBe('claude-sonnet-4-5');
    expect(reportingModel(priced(usageEvent({ servedModel: null, requestedModel: null })))).toBe('unknown');
  });

  it('are sorted by key, so concurrent writers lock rows in the same order', () => {
    const users = ['00000000-0000-4000-8000-00000000000c', '00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
    const rows = rollupsFor(users.map((userId) => priced(usageEvent({ userId }))), SEOUL);
    const keys = rows.map((r) => [r.granularity, r.bucketStart.toISOString(), r.userId].join('|'));
    expect(keys).toEqual([...keys].sort());
  });
});

describe('Bedrock spend per budget month', () => {
  it('counts only Bedrock events with a cost, in the month of the request (TIMEZONE)', () => {
    const bedrock = (at: string, outputTokens: number) =>
      priced(usageEvent({ provider: 'bedrock', region: 'us-east-1', servedModel: 'us.anthropic.claude-opus-5-5', occurredAt: new Date(at), ...usage({ outputTokens }) }));
    const spend = bedrockSpendFor(
      [
        bedrock('2026-11-30T14:59:59Z', 1_000_000), // $22 in November (Seoul)
        bedrock('2026-11-30T15:00:00Z', 500_000), // $11 in December (Seoul)
        bedrock('2026-11-30T10:00:00Z', 1000), // $0.022 in November
        priced(usageEvent({ provider: 'plan', ...usage({ outputTokens: 1_000_000 }) })), // Plan: not budgeted
      ],
      SEOUL,
    );
    expect(spend.map((s) => [s.periodStart.toISOString(), s.spentUsd])).toEqual([
      ['2026-10-31T15:00:00.000Z', '22.022'],
      ['2026-11-30T15:00:00.000Z', '11.00'],
    ]);
  });
});
