import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { CircuitSnapshot } from '../proxy/circuit-breaker.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { IdParams } from './schemas.ts';

const Breaker = Type.Object({
  access_key_id: Type.String(),
  state: Type.String(),
  failures: Type.Integer(),
  reason: Type.Union([Type.String(), Type.Null()]),
  opened_at: Type.Union([Type.String(), Type.Null()]),
  retry_at: Type.Union([Type.String(), Type.Null()]),
});

function breakerJson(s: CircuitSnapshot) {
  return {
    access_key_id: s.accessKeyId,
    state: s.state,
    failures: s.failures,
    reason: s.reason,
    opened_at: s.openedAt?.toISOString() ?? null,
    retry_at: s.state === 'closed' ? null : (s.retryAt?.toISOString() ?? null),
  };
}

/** The per-access-key circuit breakers of this process: state, and a reset for an admin who knows better. */
export async function circuitBreakerRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/circuit-breakers', { schema: { response: { 200: Type.Object({ items: Type.Array(Breaker) }) } } }, async () => ({
    items: deps.breakers.list().map(breakerJson),
  }));

  app.get('/circuit-breakers/:id', { schema: { params: IdParams, response: { 200: Breaker } } }, async (request) => {
    if (!(await deps.accessKeys.get(request.params.id))) throw notFound('access key');
    return breakerJson(deps.breakers.snapshot(request.params.id));
  });

  app.post('/circuit-breakers/:id/reset', { schema: { params: IdParams } }, async (request, reply) => {
    if (!(await deps.accessKeys.get(request.params.id))) throw notFound('access key');
    deps.breakers.reset(request.params.id);
    return reply.code(204).send();
  });
}
