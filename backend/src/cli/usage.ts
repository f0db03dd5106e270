import type { CostBreakdown, TopUsers, UsageReport } from '../admin/contract.ts';
import type { Command, Handler } from './context.ts';
import { api, findKey, findUser } from './http.ts';
import { out, table } from './output.ts';

// usage, usage top, usage breakdown: reports for a period in TIMEZONE.

/** The report query: the given parameters, the period flags, --user by id or name and --key by id or prefix. */
export async function usageQuery({ g, values }: Command, params: Record<string, string | undefined>): Promise<string> {
  const query = new URLSearchParams();
  const range = { period: values.period, start_date: values.start, end_date: values.end };
  for (const [name, value] of Object.entries({ ...range, ...params })) if (value !== undefined && value !== '') query.set(name, value);
  if (values.user) query.set('user_id', (await findUser(g, values.user)).id);
  if (query.has('access_key_id')) query.set('access_key_id', (await findKey(g, query.get('access_key_id')!)).id);
  return query.toString();
}

export const usageCommands: Record<string, Handler> = {
  usage: async (command) => {
    const { g, values } = command;
    const query = await usageQuery(command, { bucket: values.bucket, access_key_id: values.key, provider: values.provider, model: values.model });
    const res = await api<UsageReport>(g, 'GET', `/admin/usage?${query}`);
    const rows = [...res.buckets, { ...res.totals, start: 'total' }];
    return out(g, res, `${res.period.start} – ${res.period.end} (${res.period.timezone})\n${table(rows, ['start', 'requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'])}`);
  },

  'usage top': async (command) => {
    const { g, values } = command;
    const query = await usageQuery(command, { by: values.by, limit: values.limit === '50' ? undefined : values.limit, provider: values.provider, model: values.model });
    const res = await api<TopUsers>(g, 'GET', `/admin/usage/top-users?${query}`);
    return out(g, res, table(res.items, ['name', 'user_id', 'requests', 'total_tokens', 'cost_usd']));
  },

  'usage breakdown': async (command) => {
    const { g, values } = command;
    const query = await usageQuery(command, { access_key_id: values.key, provider: values.provider });
    const res = await api<CostBreakdown>(g, 'GET', `/admin/usage/cost-breakdown?${query}`);
    return out(g, res, table([...res.items, { ...res.totals, provider: 'total' }], ['provider', 'model', 'requests', 'input_cost_usd', 'output_cost_usd', 'cache_read_cost_usd', 'cache_write_cost_usd', 'cost_usd']));
  },
};
