import type { BudgetStatus, Limits } from '../admin/contract.ts';
import { CliError, need, type Handler } from './context.ts';
import { api, findUser } from './http.ts';
import { out } from './output.ts';

// budget <user> [<usd>|none], limits <user> [--rpm n|none] [--in-flight n|none].

export const budgetCommands: Record<string, Handler> = {
  budget: async ({ g, action, arg }) => {
    const user = await findUser(g, need(action, 'user id or name'));
    const status =
      arg === undefined
        ? await api<BudgetStatus>(g, 'GET', `/admin/users/${user.id}/budget`)
        : await api<BudgetStatus>(g, 'PUT', `/admin/users/${user.id}/budget`, { monthly_budget_usd: ['none', ''].includes(arg.toLowerCase()) ? null : arg });
    const limit = status.monthly_budget_usd === null ? 'no budget' : `budget $${status.monthly_budget_usd}, $${status.remaining_usd} left (${status.percent_used}% used)`;
    return out(g, status, `${user.name}: $${status.spent_usd} spent on Bedrock and $${status.reserved_usd} held by running requests since ${status.period_start}; ${limit}; resets ${status.period_end}`);
  },

  limits: async ({ g, values, action }) => {
    const user = await findUser(g, need(action, 'user id or name'));
    const limit = (flag: 'rpm' | 'in-flight'): number | null | undefined => {
      const value = values[flag];
      if (value === undefined) return undefined;
      if (value.toLowerCase() === 'none') return null;
      if (!/^[1-9]\d*$/.test(value)) throw new CliError(`--${flag} must be a whole number above 0, or none (got "${value}")`);
      return Number(value);
    };
    const changes = { max_requests_per_minute: limit('rpm'), max_in_flight: limit('in-flight') };
    const set = Object.values(changes).some((v) => v !== undefined);
    const res = set ? await api<Limits>(g, 'PUT', `/admin/users/${user.id}/limits`, changes) : await api<Limits>(g, 'GET', `/admin/users/${user.id}/limits`);
    const show = (n: number | null, what: string) => (n === null ? `no ${what} limit` : `${n} ${what}`);
    return out(g, res, `${user.name}: ${show(res.max_requests_per_minute, 'requests per minute')}, ${show(res.max_in_flight, 'in flight')} (each proxy task counts on its own)`);
  },
};
