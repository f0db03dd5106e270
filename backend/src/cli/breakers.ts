import type { BreakerList } from '../admin/contract.ts';
import { need, type Handler } from './context.ts';
import { api, findKey } from './http.ts';
import { out, table } from './output.ts';

// breakers list|reset.

/** A key without a Bedrock key never falls back, whatever its breaker says (README, "Bedrock fallback"). */
const fallbackText = (b: BreakerList['items'][number]): string => (b.fallback_unavailable === 'no_bedrock_key' ? 'no Bedrock key' : '');

export const breakerCommands: Record<string, Handler> = {
  'breakers list': async ({ g }) => {
    const res = await api<BreakerList>(g, 'GET', '/admin/circuit-breakers');
    const rows = res.items.map((b) => ({ ...b, fallback: fallbackText(b) }));
    return out(g, res, table(rows, ['access_key_id', 'state', 'failures', 'reason', 'retry_at', 'fallback']));
  },

  'breakers reset': async ({ g, arg }) => {
    const { id, label } = await findKey(g, need(arg, 'access key id or prefix'));
    await api(g, 'POST', `/admin/circuit-breakers/${id}/reset`);
    return out(g, { access_key_id: id, state: 'closed' }, `Closed the circuit breaker of access key ${label} on every task`);
  },
};
