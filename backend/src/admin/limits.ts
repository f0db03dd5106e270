import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { UserRow } from '../db/user-repository.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { IdParams, Limits, PutLimitsBody } from './schemas.ts';
import { updateUserSettings } from './user-settings.ts';

// Optional per-user request limits (proxy/user-limits.ts). Each proxy task counts on its own, so
// behind N tasks a user may get up to N times these numbers: they stop a runaway client, they are
// not a quota (the monthly budget caps money).

function limitsJson(row: UserRow): Static<typeof Limits> {
  return { user_id: row.id, max_requests_per_minute: row.maxRequestsPerMinute, max_in_flight: row.maxInFlight, scope: 'per_task' };
}

export async function limitRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/users/:id/limits',
    { schema: { summary: "The user's request limits (counted by each proxy task)", params: IdParams, response: { 200: Limits } } },
    async (request) => {
      const row = await deps.users.get(request.params.id);
      if (!row) throw notFound('user');
      return limitsJson(row);
    },
  );

  app.put(
    '/users/:id/limits',
    {
      schema: {
        summary: 'Set (a whole number) or remove (null) the requests-per-minute and in-flight limits; the others stay as they are',
        params: IdParams,
        body: PutLimitsBody,
        response: { 200: Limits },
      },
    },
    async (request) => {
      const body = request.body;
      const changes = {
        ...(body.max_requests_per_minute !== undefined ? { maxRequestsPerMinute: body.max_requests_per_minute } : {}),
        ...(body.max_in_flight !== undefined ? { maxInFlight: body.max_in_flight } : {}),
      };
      return updateUserSettings(deps, request, request.params.id, 'user.limits', changes, limitsJson);
    },
  );
}
