import type { ModelMapping, ModelMappings } from '../admin/contract.ts';
import { need, type Handler } from './context.ts';
import { api } from './http.ts';
import { out, table } from './output.ts';

// mappings list|set|delete.

type Row = Pick<ModelMapping, 'model' | 'base_id' | 'geographies'>;

export const mappingCommands: Record<string, Handler> = {
  'mappings list': async ({ g }) => {
    const res = await api<ModelMappings>(g, 'GET', '/admin/model-mappings');
    const rows = (list: Row[], source: string) => list.map((m) => ({ ...m, geographies: m.geographies.join(','), source }));
    return out(g, res, table([...rows(res.items, 'admin'), ...rows(res.defaults, 'default')], ['model', 'base_id', 'geographies', 'source']));
  },

  'mappings set': async ({ g, values, positionals, arg }) => {
    const model = need(arg, 'model name');
    const baseId = need(positionals[3], 'Bedrock model id');
    const geographies = values.geographies ? values.geographies.split(',').map((x) => x.trim()).filter(Boolean) : [];
    const row = await api<ModelMapping>(g, 'PUT', `/admin/model-mappings/${encodeURIComponent(model)}`, { base_id: baseId, geographies });
    return out(g, row, `${row.model} → ${row.base_id}${row.geographies.length ? ` (profiles: ${row.geographies.join(', ')})` : ''}`);
  },

  'mappings delete': async ({ g, arg }) => {
    const model = need(arg, 'model name');
    await api(g, 'DELETE', `/admin/model-mappings/${encodeURIComponent(model)}`);
    return out(g, { model, deleted: true }, `Removed the mapping of ${model}`);
  },
};
