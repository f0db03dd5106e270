import type { Price, PriceList } from '../admin/contract.ts';
import { need, type Handler } from './context.ts';
import { api } from './http.ts';
import { out, table } from './output.ts';

// pricing list|add: model prices (USD per million tokens) and when each applies.

export const pricingCommands: Record<string, Handler> = {
  'pricing list': async ({ g, values }) => {
    const query = new URLSearchParams();
    if (values.provider) query.set('provider', values.provider);
    if (values.model) query.set('model', values.model);
    if (values.current) query.set('current', 'true');
    const res = await api<PriceList>(g, 'GET', `/admin/pricing?${query}`);
    const rows = res.items.map((p) => ({ ...p, region: p.region ?? '', in_effect: p.in_effect ? 'yes' : '' }));
    const columns = ['id', 'provider', 'region', 'model', 'input_usd_per_mtok', 'output_usd_per_mtok', 'cache_write_5m_usd_per_mtok', 'cache_write_1h_usd_per_mtok', 'cache_read_usd_per_mtok', 'effective_from', 'in_effect'];
    return out(g, res, table(rows, columns));
  },

  'pricing add': async ({ g, values, arg }) => {
    const model = need(arg, 'model');
    const price = await api<Price>(g, 'POST', '/admin/pricing', {
      provider: need(values.provider, '--provider'),
      ...(values.region ? { region: values.region } : {}),
      model,
      input_usd_per_mtok: need(values.input, '--input'),
      output_usd_per_mtok: need(values.output, '--output'),
      cache_write_5m_usd_per_mtok: need(values['cache-write-5m'], '--cache-write-5m'),
      cache_write_1h_usd_per_mtok: need(values['cache-write-1h'], '--cache-write-1h'),
      cache_read_usd_per_mtok: need(values['cache-read'], '--cache-read'),
      ...(values.effective ? { effective_from: values.effective } : {}),
    });
    return out(g, price, `Added price ${price.id} for ${price.provider} ${price.model}, in effect from ${price.effective_from}`);
  },
};
