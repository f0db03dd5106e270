import type { BreakerList } from '../admin/contract.ts';
import { need, type Handler } from './context.ts';
import { api, findKey } from './http.ts';
import { out, table } from './output.ts';

// breakers list|reset.

export const breakerCommands: Record<string, Handler> = {
  'breakers list': async ({ g }) => {
    const res = await api<BreakerList>(g, 'GET', '/admin/circuit-breakers');
    return out(g, res, table(res.items, ['access_key_id', 'state', 'failures', 'reason', 'retry_at']));
  },

  'breakers reset': async ({ g, arg }) => {
    const { id, label } = await findKey(g, need(arg, 'access key id or prefix'));
    await api(g, 'POST', `/admin/circuit-breakers/${id}/reset`);
    return out(g, { access_key_id: id, state: 'closed' }, `Closed the circuit breaker of access key ${label} on every task`);
  },
};
