import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { budgetExceededMessage, createBudgetGate, type BudgetGate, type BudgetRequest, type BudgetStore } from '../../../src/accounting/budgets.ts';
import { shippedBook } from './fixtures.ts';

const silent = pino({ level: 'silent' });
const book = shippedBook();

function fakeStore(over: Partial<BudgetStore> = {}): BudgetStore & { reserve: ReturnType<typeof vi.fn>; status: ReturnType<typeof vi.fn> } {
  return {
    reserve: vi.fn(async () => ({ id: 42, spentUsd: '2.5' })),
    status: vi.fn(async () => ({ monthlyBudgetUsd: '10.0000', spentUsd: '9.87', reservedUsd: '0.5' })),
    sweepExpired: vi.fn(async () => 0),
    ...over,
  } as BudgetStore & { reserve: ReturnType<typeof vi.fn>; status: ReturnType<typeof vi.fn> };
}

const request = (over: Partial<BudgetRequest> = {}): BudgetRequest => ({
  userId: 'u1',
  monthlyBudgetUsd: '10',
  requestId: 'req_1',
  occurredAt: new Date('2026-11-30T14:59:59Z'), // last second of November in Seoul
  bedrockModelId: 'us.anthropic.claude-opus-5-5',
  region: 'us-east-1',
  bodyBytes: 10_000,
  maxTokens: 4096,
  ...over,
});

let gate: BudgetGate | undefined;
afterEach(() => gate?.stop());

describe('budget gate', () => {
  it('does not touch the database for a user without a budget', async () => {
    const store = fakeStore();
    gate = createBudgetGate({ store, prices: { current: () => book }, timeZone: 'Asia/Seoul', logger: silent });
    expect(await gate.reserve(request({ monthlyBudgetUsd: null }))).toEqual({ kind: 'unlimited' });
    expect(store.reserve).not.toHaveBeenCalled();
  });

  it('reserves the worst case in the budget month of the request', async () => {
    const store = fakeStore();
    gate = createBudgetGate({ store, prices: { current: () => book }, timeZone: 'Asia/Seoul', logger: silent, now: () => new Date('2026-11-30T15:00:01Z') });
    // 10,000 bytes × $8.80 + 4,096 × $22 (Opus 5.5, regional)
    // The month's spend before it ($2.50 of $10) and the end of that month in Seoul come back with it.
    expect(await gate.reserve(request())).toEqual({ kind: 'reserved', reservationId: 42, amountUsd: '0.178112', used: 0.25, resetsAt: new Date('2026-11-30T15:00:00Z') });
    expect(store.reserve).toHaveBeenCalledWith({
      userId: 'u1',
      periodStart: new Date('2026-10-31T15:00:00Z'), // November in Seoul, though the reservation is made in December
      amountUsd: '0.178112',
      requestId: 'req_1',
      expiresAt: new Date('2026-11-30T16:00:01Z'),
    });
  });

  it('refuses with what was spent, the limit and when it resets', async () => {
    gate = createBudgetGate({ store: fakeStore({ reserve: vi.fn(async () => null) }), prices: { current: () => book }, timeZone: 'Asia/Seoul', logger: silent });
    const decision = await gate.reserve(request());
    expect(decision).toMatchObject({ kind: 'exceeded', limitUsd: '10.0000', spentUsd: '9.87', reservedUsd: '0.5', requiredUsd: '0.178112' });
    if (decision.kind !== 'exceeded') throw new Error('expected a refusal');
    expect(budgetExceededMessage(decision, 'Asia/Seoul')).toBe(
      'Monthly Bedrock budget exceeded: $9.87 spent (plus $0.50 held by requests still running) of the $10.00 budget, ' +
        'and this request may cost up to $0.18. The budget resets at 2026-12-01T00:00:00+09:00 (Asia/Seoul).',
    );
  });

  it('lets the request through when the budget was removed since the key was cached', async () => {
    const store = fakeStore({ reserve: vi.fn(async () => null), status: vi.fn(async () => ({ monthlyBudgetUsd: null, spentUsd: '0', reservedUsd: '0' })) });
    gate = createBudgetGate({ store, prices: { current: () => book }, timeZone: 'Asia/Seoul', logger: silent });
    expect(await gate.reserve(request())).toEqual({ kind: 'unlimited' });
  });

  it('says the budget cannot be checked when the database fails or does not answer in time', async () => {
    gate = createBudgetGate({ store: fakeStore({ reserve: vi.fn(async () => Promise.reject(new Error('ECONNREFUSED'))) }), prices: { current: () => book }, timeZone: 'UTC', logger: silent });
    expect((await gate.reserve(request())).kind).toBe('unavailable');
    gate.stop();
    gate = createBudgetGate({ store: fakeStore({ reserve: () => new Promise<{ id: number; spentUsd: string }>(() => {}) }), prices: { current: () => book }, timeZone: 'UTC', logger: silent, timeoutMs: 20 });
    expect((await gate.reserve(request())).kind).toBe('unavailable');
  });

  it('cannot enforce a budget for a model with no price, and says so', async () => {
    gate = createBudgetGate({ store: fakeStore(), prices: { current: () => book }, timeZone: 'UTC', logger: silent });
    expect(await gate.reserve(request({ bedrockModelId: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/zz' }))).toEqual({
      kind: 'unpriced',
      model: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/zz',
    });
  });

  it('bounds a request without max_tokens by the largest output any model allows', async () => {
    const store = fakeStore();
    gate = createBudgetGate({ store, prices: { current: () => book }, timeZone: 'UTC', logger: silent });
    // 100 × $8.80 + 128,000 × $22 = $0.00088 + $2.816
    expect(await gate.reserve(request({ bodyBytes: 100, maxTokens: null }))).toMatchObject({ amountUsd: '2.81688' });
  });

  it('sweeps expired reservations periodically', async () => {
    const store = fakeStore();
    gate = createBudgetGate({ store, prices: { current: () => book }, timeZone: 'UTC', logger: silent, sweepIntervalMs: 10 });
    await expect.poll(() => (store.sweepExpired as ReturnType<typeof vi.fn>).mock.calls.length).toBeGreaterThan(1);
  });
});
