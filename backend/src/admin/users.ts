import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UserChanges, UserRow } from '../db/user-repository.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { CreateUserBody, IdParams, Page, UpdateUserBody, User } from './schemas.ts';

export function userJson(row: UserRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    routing_strategy: row.routingStrategy,
    monthly_budget_usd: row.monthlyBudgetUsd,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function userRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/users', { schema: { body: CreateUserBody, response: { 201: User } } }, async (request, reply) => {
    try {
      const row = await deps.users.create({ name: request.body.name.trim(), description: request.body.description ?? null });
      return reply.code(201).send(userJson(row));
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `name: a user named "${request.body.name}" already exists`);
      throw err;
    }
  });

  app.get('/users', { schema: { querystring: Page, response: { 200: Type.Object({ items: Type.Array(User), total: Type.Integer() }) } } }, async (request) => {
    const { items, total } = await deps.users.list(request.query);
    return { items: items.map(userJson), total };
  });

  app.get('/users/:id', { schema: { params: IdParams, response: { 200: User } } }, async (request) => {
    const row = await deps.users.get(request.params.id);
    if (!row) throw notFound('user');
    return userJson(row);
  });

  app.patch('/users/:id', { schema: { params: IdParams, body: UpdateUserBody, response: { 200: User } } }, async (request) => {
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
    let row: UserRow | null;
    try {
      row = await deps.users.update(request.params.id, changes);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `name: a user named "${changes.name}" already exists`);
      throw err;
    }
    if (!row) throw notFound('user');
    // Cached key contexts carry the routing strategy: the proxy must see the change on the next request.
    deps.resolver.invalidate((ctx) => ctx.userId === row.id);
    return userJson(row);
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
