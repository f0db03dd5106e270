/**
 * Monthly budgets on Bedrock spend (README, "Costs, reports and budgets"). Before a Bedrock call the request's worst-case
 * cost is reserved in the database — one conditional statement, atomic across every proxy process
 * sharing the database — and the reservation is settled to the real cost when the request's usage
 * event is stored (db/usage-repository.ts: same transaction as the event, so exactly once, and
 * also after an outage, from the spill file). A reservation whose request never settles (its
 * process died) expires and is swept: settled at its worst case, so a crash never lets spend go
 * uncounted (db/budget-repository.ts).
 *
 * This is the one place the hot path waits on the database, and only for a user with a budget and
 * a request going to Bedrock; users without a budget (known from the cached key context) cost nothing.
 */

import type { Logger } from '../observability/logger.ts';
import { formatZoned, addUnits, startOf } from './calendar.ts';
import { worstCaseCost } from './cost.ts';
import { formatUsd, formatUsdCents, toPico } from './money.ts';
import type { PriceBook } from './pricing.ts';

/** What the gate needs from storage (db/budget-repository.ts). */
export interface BudgetStore {
  /** The reservation and the month's spend before it, or null when it would not fit the budget. */
  reserve(input: { userId: string; periodStart: Date; amountUsd: string; requestId: string; expiresAt: Date }): Promise<{ id: number; spentUsd: string } | null>;
  status(userId: string, periodStart: Date): Promise<{ monthlyBudgetUsd: string | null; spentUsd: string; reservedUsd: string } | null>;
  sweepExpired(now: Date): Promise<number>;
}

export interface BudgetRequest {
  userId: string;
  /** From the cached key context: null means no budget, and no database round trip. */
  monthlyBudgetUsd: string | null;
  requestId: string;
  /** When the request arrived: it picks the budget month, as it does for the usage event. */
  occurredAt: Date;
  /** The Bedrock model id the call will use, or null when the model cannot be mapped (the call fails anyway). */
  bedrockModelId: string | null;
  region: string;
  /** Size of the request body: an upper bound on its prompt tokens. */
  bodyBytes: number;
  /** The request's `max_tokens`, when it is a positive integer. */
  maxTokens: number | null;
}

export interface BudgetExceeded {
  limitUsd: string;
  spentUsd: string;
  reservedUsd: string;
  requiredUsd: string;
  periodStart: Date;
  resetsAt: Date;
}

export type BudgetDecision =
  | { kind: 'unlimited' }
  /** `used`: the month's spend over the budget before this request (0–1), and when the month ends. */
  | { kind: 'reserved'; reservationId: number; amountUsd: string; used: number; resetsAt: Date }
  | ({ kind: 'exceeded' } & BudgetExceeded)
  /** A budgeted user asked for a model with no price: the budget could not be enforced. */
  | { kind: 'unpriced'; model: string }
  /** The database did not answer: the budget cannot be checked. */
  | { kind: 'unavailable'; err: unknown };

export interface BudgetGate {
  reserve(request: BudgetRequest): Promise<BudgetDecision>;
  stop(): void;
}

export interface BudgetGateOptions {
  store: BudgetStore;
  prices: { current(): PriceBook };
  timeZone: string;
  logger: Logger;
  /**
   * How long a reservation outlives a request that never settles it (its process died), before it
   * is settled at its worst case. Longer than any request should run.
   */
  reservationTtlMs?: number;
  sweepIntervalMs?: number;
  /** The reservation query's time limit; past it the request is refused as `unavailable`. */
  timeoutMs?: number;
  now?: () => Date;
}

/** Used when a request carries no usable max_tokens (Bedrock then refuses it anyway). */
export const DEFAULT_MAX_TOKENS_BOUND = 128_000;

export function createBudgetGate(options: BudgetGateOptions): BudgetGate {
  const ttl = options.reservationTtlMs ?? 3_600_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? (() => new Date());
  const { store, timeZone } = options;

  const sweep = () =>
    store
      .sweepExpired(now())
      .then((n) => n > 0 && options.logger.warn({ reservations: n }, 'settled expired budget reservations at their worst case (their requests never settled)'))
      .catch((err: unknown) => options.logger.warn({ err }, 'budget reservation sweep failed; will retry'));
  const timer = setInterval(() => void sweep(), options.sweepIntervalMs ?? 60_000);
  timer.unref();

  return {
    async reserve(request) {
      if (request.monthlyBudgetUsd === null || request.bedrockModelId === null) return { kind: 'unlimited' };
      const price = options.prices.current().find({ provider: 'bedrock', model: request.bedrockModelId, region: request.region, at: request.occurredAt });
      if (!price) return { kind: 'unpriced', model: request.bedrockModelId };
      const maxTokens = request.maxTokens && request.maxTokens > 0 ? request.maxTokens : DEFAULT_MAX_TOKENS_BOUND;
      const amount = worstCaseCost(price, { promptTokensBound: request.bodyBytes, maxTokens });
      const amountUsd = formatUsd(amount);
      const periodStart = startOf(request.occurredAt, 'month', timeZone);
      try {
        const reserved = await withTimeout(
          store.reserve({ userId: request.userId, periodStart, amountUsd, requestId: request.requestId, expiresAt: new Date(now().getTime() + ttl) }),
          timeoutMs,
        );
        if (reserved !== null) {
          const limit = Number(request.monthlyBudgetUsd);
          const used = limit > 0 ? Number(reserved.spentUsd) / limit : 1;
          return { kind: 'reserved', reservationId: reserved.id, amountUsd, used, resetsAt: addUnits(periodStart, 'month', 1, timeZone) };
        }
        // Refused (rare): read the ledger for the message, and in case the budget was just removed.
        const status = await withTimeout(store.status(request.userId, periodStart), timeoutMs);
        if (!status || status.monthlyBudgetUsd === null) return { kind: 'unlimited' };
        return {
          kind: 'exceeded',
          limitUsd: status.monthlyBudgetUsd,
          spentUsd: status.spentUsd,
          reservedUsd: status.reservedUsd,
          requiredUsd: amountUsd,
          periodStart,
          resetsAt: addUnits(periodStart, 'month', 1, timeZone),
        };
      } catch (err) {
        return { kind: 'unavailable', err };
      }
    },
    stop: () => clearInterval(timer),
  };
}

/** The 429 message: what was spent, the limit, and when it resets (in TIMEZONE). */
export function budgetExceededMessage(e: BudgetExceeded, timeZone: string): string {
  const usd = (v: string) => `$${formatUsdCents(toPico(v))}`;
  const reserved = toPico(e.reservedUsd) > 0n ? ` (plus ${usd(e.reservedUsd)} held by requests still running)` : '';
  return (
    `Monthly Bedrock budget exceeded: ${usd(e.spentUsd)} spent${reserved} of the ${usd(e.limitUsd)} budget, ` +
    `and this request may cost up to ${usd(e.requiredUsd)}. The budget resets at ${formatZoned(e.resetsAt, timeZone)} (${timeZone}).`
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
