import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UserRow } from '../db/user-repository.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { CreateUserBody, IdParams, Page, User } from './schemas.ts';

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
}

/** PostgreSQL's unique_violation, whether the driver error arrives bare or wrapped by Drizzle. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
