import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { CircuitSnapshot } from '../proxy/circuit-breaker.ts';
import { createPlanWindowRepository } from '../db/plan-window-repository.ts';
import { auditContext } from './audit.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { Breaker, BreakerList, IdParams, NoContent } from './schemas.ts';

/**
 * A breaker as the API shows it. `fallbackUnavailable`, when given, says whether the key can fall
 * back at all: a key without a Bedrock key never opens its breaker (proxy/serve.ts), so "closed"
 * there means "stays on Anthropic", and the view says why.
 */
export function breakerJson(s: CircuitSnapshot, fallbackUnavailable?: 'no_bedrock_key' | null): Static<typeof Breaker> {
  return {
    access_key_id: s.accessKeyId,
    state: s.state,
    failures: s.failures,
    reason: s.reason,
    opened_at: s.openedAt?.toISOString() ?? null,
    retry_at: s.state === 'closed' ? null : (s.retryAt?.toISOString() ?? null),
    ...(fallbackUnavailable === undefined ? {} : { fallback_unavailable: fallbackUnavailable }),
  };
}

/** Which of these keys cannot fall back for want of a Bedrock key (none under BEDROCK_AUTH=sigv4: the task role signs). */
export async function withoutBedrockKey(deps: Pick<AdminDeps, 'bedrockAuth' | 'accessKeys'>, ids: readonly string[]): Promise<Set<string>> {
  if (deps.bedrockAuth === 'sigv4' || ids.length === 0) return new Set();
  return new Set((await deps.accessKeys.withoutBedrockKey(ids)).map((k) => k.accessKeyId));
}

/** The per-access-key circuit breakers of this process: state, and a reset for an admin who knows better. */
export async function circuitBreakerRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/circuit-breakers', { schema: { summary: 'Circuit breakers of this task that are not closed or have counted failures', response: { 200: BreakerList } } }, async () => {
    const breakers = deps.breakers.list();
    const noKey = await withoutBedrockKey(deps, breakers.map((b) => b.accessKeyId));
    return { items: breakers.map((b) => breakerJson(b, noKey.has(b.accessKeyId) ? 'no_bedrock_key' : null)) };
  });

  app.get('/circuit-breakers/:id', { schema: { summary: 'The breaker of one access key on this task', params: IdParams, response: { 200: Breaker } } }, async (request) => {
    const id = request.params.id;
    if (!(await deps.accessKeys.get(id))) throw notFound('access key');
    const noKey = await withoutBedrockKey(deps, [id]);
    return breakerJson(deps.breakers.snapshot(id), noKey.has(id) ? 'no_bedrock_key' : null);
  });

  app.post(
    '/circuit-breakers/:id/reset',
    { schema: { summary: 'Close the access key\'s breaker on every task: its next request tries Anthropic again', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const id = request.params.id;
      if (!(await deps.accessKeys.get(id))) throw notFound('access key');
      const before = breakerJson(deps.breakers.snapshot(id));
      await deps.transact(auditContext(request), async (tx) => {
        // The state is per task; "before" is this task's view, and the reset reaches every task.
        await tx.audit({ action: 'circuit_breaker.reset', targetType: 'circuit_breaker', targetId: id, before, after: { ...before, state: 'closed', failures: 0, reason: null, opened_at: null, retry_at: null } });
        // The key's Plan reading goes too: an admin who knows better sends it back to Anthropic, whose next answer reads the window again.
        await createPlanWindowRepository(tx.db).remove(id);
        tx.changed({ topic: 'circuit_breaker', id });
      });
      return reply.code(204).send(null);
    },
  );
}
