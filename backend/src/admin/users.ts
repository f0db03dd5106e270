import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { formatZoned, startOf } from '../accounting/calendar.ts';
import type { UserChanges, UserRow } from '../db/user-repository.ts';
import { auditContext, type AuditContext } from './audit.ts';
import { budgetSummaryJson } from './budgets.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { CreateUserBody, IdParams, NoContent, UpdateUserBody, User, UserListQuery, UserPage } from './schemas.ts';

export function userJson(row: UserRow): Static<typeof User> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    routing_strategy: row.routingStrategy,
    monthly_budget_usd: row.monthlyBudgetUsd,
    email: row.email,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
}

export async function userRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/users', { schema: { summary: 'Create a user', body: CreateUserBody, response: { 201: User } } }, async (request, reply) => {
    try {
      const row = await deps.transact(auditContext(request), async (tx) => {
        const created = await tx.users.create({ name: request.body.name.trim(), description: request.body.description ?? null });
        await tx.audit({ action: 'user.create', targetType: 'user', targetId: created.id, before: null, after: userJson(created) });
        return created;
      });
      return reply.code(201).send(userJson(row));
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `name: a user named "${request.body.name}" already exists`);
      throw err;
    }
  });

  app.get(
    '/users',
    {
      schema: {
        summary: "List users (oldest first), each with this month's Bedrock budget and spend, requests and cost, and when last seen; without status, every user not deleted",
        querystring: UserListQuery,
        response: { 200: UserPage },
      },
    },
    async (request) => {
      const { items, total } = await deps.users.list(request.query);
      // Every row's budget and usage in one query each, so the dashboard's user list needs no request per user.
      const { budgetRows, reports, timeZone } = deps.accounting;
      const ids = items.map((u) => u.id);
      const monthStart = startOf(new Date(), 'month', timeZone);
      const [budgets, activity] = await Promise.all([budgetRows.statuses(ids, monthStart), reports.userActivity(ids, monthStart)]);
      const noLedger = (u: UserRow) => ({ monthlyBudgetUsd: u.monthlyBudgetUsd, spentUsd: '0', reservedUsd: '0' });
      return {
        items: items.map((u) => {
          const seen = activity.get(u.id);
          return {
            ...userJson(u),
            budget: budgetSummaryJson(budgets.get(u.id) ?? noLedger(u)),
            last_seen_at: seen?.lastSeenAt ? formatZoned(seen.lastSeenAt, timeZone) : null,
            month_requests: seen?.monthRequests ?? 0,
            month_cost_usd: seen?.monthCostUsd ?? '0.00',
          };
        }),
        total,
      };
    },
  );

  app.get('/users/:id', { schema: { summary: 'One user (deleted ones too)', params: IdParams, response: { 200: User } } }, async (request) => {
    const row = await deps.users.getIncludingDeleted(request.params.id);
    if (!row) throw notFound('user');
    return userJson(row);
  });

  app.patch(
    '/users/:id',
    { schema: { summary: 'Change name, description, routing strategy or monthly budget', params: IdParams, body: UpdateUserBody, response: { 200: User } } },
    async (request) => {
      const body = request.body;
      const changes: UserChanges = {};
      if (body.name !== undefined) changes.name = body.name.trim();
      if (body.description !== undefined) changes.description = body.description;
      if (body.routing_strategy !== undefined) changes.routingStrategy = body.routing_strategy;
      if (body.monthly_budget_usd !== undefined) changes.monthlyBudgetUsd = budget(body.monthly_budget_usd);
      if (Object.keys(changes).length === 0) {
        throw new AdminError(400, 'invalid_request_error', 'body: give at least one of name, description, routing_strategy, monthly_budget_usd');
      }
      if (changes.name === '') throw new AdminError(400, 'invalid_request_error', 'name: must not be blank');
      try {
        const row = await deps.transact(auditContext(request), async (tx) => {
          const before = await tx.users.get(request.params.id);
          if (!before) throw notFound('user');
          const after = await tx.users.update(before.id, changes);
          if (!after) throw notFound('user'); // deleted meanwhile
          await tx.audit({ action: 'user.update', targetType: 'user', targetId: after.id, before: userJson(before), after: userJson(after) });
          // Cached key contexts carry the routing strategy: every process must see the change on its next request.
          tx.changed({ topic: 'user', id: after.id });
          return after;
        });
        return userJson(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `name: a user named "${changes.name}" already exists`);
        throw err;
      }
    },
  );

  // Deactivation keeps the keys (the proxy refuses them while the user is inactive), so
  // reactivation gives the user back exactly the keys they had.
  for (const [verb, from, to] of [
    ['deactivate', 'active', 'inactive'],
    ['reactivate', 'inactive', 'active'],
  ] as const) {
    app.post(
      `/users/:id/${verb}`,
      {
        schema: {
          summary: verb === 'deactivate' ? 'Deactivate: the user\'s keys stop working until reactivated' : 'Reactivate: the user\'s unrevoked keys work again',
          params: IdParams,
          response: { 200: User },
        },
      },
      async (request) => userJson(await setUserStatus(deps, auditContext(request), request.params.id, verb, from, to)),
    );
  }

  app.delete(
    '/users/:id',
    { schema: { summary: 'Soft delete: the user is marked deleted, every key revoked and its Bedrock key erased; usage stays', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await deleteUser(deps, auditContext(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}

// The actions below serve both the admin's routes and SCIM provisioning (scim.ts).

/** Deactivates or reactivates a user: their keys are refused (or accepted again) on every task. */
export async function setUserStatus(
  deps: Pick<AdminDeps, 'transact'>,
  context: AuditContext,
  userId: string,
  verb: 'deactivate' | 'reactivate',
  from: 'active' | 'inactive',
  to: 'active' | 'inactive',
): Promise<UserRow> {
  return deps.transact(context, async (tx) => {
    const before = await tx.users.get(userId);
    if (!before) throw notFound('user');
    const after = await tx.users.setStatus(before.id, from, to);
    if (!after) throw new AdminError(409, 'conflict_error', `status: user ${before.id} is ${before.status}, not ${from}`);
    await tx.audit({ action: `user.${verb}`, targetType: 'user', targetId: after.id, before: userJson(before), after: userJson(after) });
    tx.changed({ topic: 'user', id: after.id });
    return after;
  });
}

/** Soft delete: the user is marked deleted, every key revoked and its Bedrock key erased; usage stays. */
export async function deleteUser(deps: Pick<AdminDeps, 'transact'>, context: AuditContext, userId: string): Promise<void> {
  await deps.transact(context, async (tx) => {
    const before = await tx.users.get(userId);
    if (!before) throw notFound('user');
    const after = await tx.users.softDelete(before.id);
    if (!after) throw notFound('user'); // deleted meanwhile
    const revoked = await tx.accessKeys.revokeAllOfUser(before.id);
    // A revoked key can never be used again, so the Bedrock keys it held are secrets with no use left.
    const erased: string[] = [];
    for (const key of revoked) if (await tx.bedrockKeys.delete(key.id)) erased.push(key.id);
    await tx.audit({
      action: 'user.delete',
      targetType: 'user',
      targetId: before.id,
      before: userJson(before),
      after: { ...userJson(after), revoked_access_key_ids: revoked.map((k) => k.id), erased_bedrock_key_ids: erased },
    });
    tx.changed({ topic: 'user', id: before.id });
    for (const key of revoked) tx.changed({ topic: 'access_key', id: key.id });
  });
}

/** A budget as PostgreSQL numeric text: "250", "99.5"; null clears it. */
function budget(value: string | number | null): string | null {
  if (value === null) return null;
  const text = typeof value === 'number' ? String(value) : value;
  if (!/^\d{1,10}(\.\d{1,4})?$/.test(text)) {
    throw new AdminError(400, 'invalid_request_error', 'monthly_budget_usd: must be an amount in USD from 0 to 9999999999 with at most 4 decimals, or null');
  }
  return text;
}

/** PostgreSQL's unique_violation, whether the driver error arrives bare or wrapped by Drizzle. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
