import type { AuditPage } from '../admin/contract.ts';
import type { Handler } from './context.ts';
import { api } from './http.ts';
import { out, table } from './output.ts';

// audit: the audit log, newest first.

export const auditCommands: Record<string, Handler> = {
  audit: async ({ g, values }) => {
    const query = new URLSearchParams({ limit: values.limit ?? '50', offset: values.offset ?? '0' });
    for (const [flag, param] of [['action', 'action'], ['actor', 'actor'], ['target', 'target_id'], ['target-type', 'target_type'], ['since', 'since'], ['until', 'until']] as const) {
      const value = values[flag];
      if (value) query.set(param, value);
    }
    const res = await api<AuditPage>(g, 'GET', `/admin/audit-log?${query}`);
    return out(g, res, `${table(res.items, ['occurred_at', 'actor', 'action', 'target_type', 'target_id', 'ip'])}\n${res.total} entr${res.total === 1 ? 'y' : 'ies'}`);
  },
};
