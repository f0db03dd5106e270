import type { BudgetStatus } from './types.ts';

/** Users at or above this share of their monthly budget (spent + held by running requests) are called out. */
export const ALERT_SHARE = 0.8;

/** Whether a budget is nearly or fully used: spent plus reserved against the limit. */
export function isNearLimit(b: Pick<BudgetStatus, 'monthly_budget_usd' | 'spent_usd' | 'reserved_usd'>, share = ALERT_SHARE): boolean {
  if (b.monthly_budget_usd === null) return false;
  const limit = Number(b.monthly_budget_usd);
  const used = Number(b.spent_usd) + Number(b.reserved_usd);
  return limit === 0 ? used > 0 : used / limit >= share;
}
