import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { addUnits, formatZoned, startOf } from '../accounting/calendar.ts';
import { formatUsd, MoneyError, parseUsdInput, toPico } from '../accounting/money.ts';
import type { BudgetStatusRow } from '../db/budget-repository.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { BudgetStatus, BudgetSummary, IdParams, PutBudgetBody } from './schemas.ts';

// A user's monthly budget on Bedrock spend (Plan traffic is paid by the user's subscription), and
// where this month (in TIMEZONE) stands: spent, held by running requests, and what is left.

/** This month's figures of a user's budget: spent, reserved, what is left and the share used. */
export function budgetSummaryJson(row: BudgetStatusRow): Static<typeof BudgetSummary> {
  const spent = toPico(row.spentUsd);
  const reserved = toPico(row.reservedUsd);
  const limit = row.monthlyBudgetUsd === null ? null : toPico(row.monthlyBudgetUsd);
  const left = limit === null ? null : limit - spent - reserved;
  return {
    monthly_budget_usd: limit === null ? null : formatUsd(limit),
    spent_usd: formatUsd(spent),
    reserved_usd: formatUsd(reserved),
    remaining_usd: left === null ? null : formatUsd(left > 0n ? left : 0n),
    // Spent (not reserved) over the limit, in percent with two decimals.
    percent_used: limit === null ? null : limit === 0n ? (spent > 0n ? 100 : 0) : Number((spent * 10_000n) / limit) / 100,
  };
}

function statusJson(userId: string, row: BudgetStatusRow, periodStart: Date, timeZone: string): Static<typeof BudgetStatus> {
  return {
    user_id: userId,
    ...budgetSummaryJson(row),
    period_start: formatZoned(periodStart, timeZone),
    period_end: formatZoned(addUnits(periodStart, 'month', 1, timeZone), timeZone),
    timezone: timeZone,
  };
}

/** The user's monthly budget and this month's spend (the admin's view and a developer's own, me.ts). */
export async function budgetStatus(deps: AdminDeps, userId: string): Promise<Static<typeof BudgetStatus>> {
  const { budgetRows, timeZone } = deps.accounting;
  const periodStart = startOf(new Date(), 'month', timeZone);
  const row = await budgetRows.status(userId, periodStart);
  if (!row) throw notFound('user');
  return statusJson(userId, row, periodStart, timeZone);
}

export async function budgetRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { budgetRows, timeZone } = deps.accounting;

  const status = (userId: string) => budgetStatus(deps, userId);

  app.get(
    '/users/:id/budget',
    { schema: { summary: "The user's monthly Bedrock budget and this month's spend", params: IdParams, response: { 200: BudgetStatus } } },
    async (request) => status(request.params.id),
  );

  app.put(
    '/users/:id/budget',
    {
      schema: {
        summary: 'Set or remove (null) the monthly Bedrock budget; every task enforces it from its next request',
        params: IdParams,
        body: PutBudgetBody,
        response: { 200: BudgetStatus },
      },
    },
    async (request) => {
      const raw = request.body.monthly_budget_usd;
      let amount: string | null;
      try {
        amount = raw === null ? null : parseUsdInput(raw, 4);
      } catch (err) {
        if (err instanceof MoneyError) throw new AdminError(400, 'invalid_request_error', `monthly_budget_usd: ${err.message} with at most 4 decimals, or null`);
        throw err;
      }
      if (amount !== null && toPico(amount) >= 10n ** 22n) throw new AdminError(400, 'invalid_request_error', 'monthly_budget_usd: must be below 10000000000');
      await deps.transact(auditContext(request), async (tx) => {
        const before = await tx.users.get(request.params.id);
        if (!before) throw notFound('user');
        await tx.users.update(before.id, { monthlyBudgetUsd: amount });
        await tx.audit({
          action: 'user.budget',
          targetType: 'user',
          targetId: before.id,
          before: { monthly_budget_usd: before.monthlyBudgetUsd },
          after: { monthly_budget_usd: amount },
        });
        // The budget lives in every cached key context of the user: whether its Bedrock calls reserve.
        tx.changed({ topic: 'user', id: before.id });
      });
      return status(request.params.id);
    },
  );
}
