import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuditRow } from '../db/audit-repository.ts';
import { AUDIT_TARGET_TYPES } from './audit.ts';
import type { AdminDeps } from './plugin.ts';
import { Page } from './schemas.ts';

const AuditQuery = Type.Object(
  {
    ...Page.properties,
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'admin username, or `system` for the server\'s own changes' })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. `user.deactivate`, `access_key.rotate`' })),
    target_type: Type.Optional(Type.Enum([...AUDIT_TARGET_TYPES])),
    target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after this instant' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'entries before this instant' })),
  },
  { additionalProperties: false },
);

const AuditEntry = Type.Object({
  id: Type.Integer(),
  occurred_at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown({ description: 'the target\'s public view before the change (never a secret); null when it did not exist' }),
  after: Type.Unknown({ description: 'and after; null when it no longer exists' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
});

function entryJson(row: AuditRow) {
  return {
    id: row.id,
    occurred_at: row.occurredAt.toISOString(),
    actor: row.actor,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    before: row.before ?? null,
    after: row.after ?? null,
    ip: row.ip,
    request_id: row.requestId,
  };
}

export async function auditLogRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/audit-log',
    {
      schema: {
        summary: 'Every admin change, newest first: who, what, target, before/after, when, from where',
        querystring: AuditQuery,
        response: { 200: Type.Object({ items: Type.Array(AuditEntry), total: Type.Integer() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const { items, total } = await deps.audit.list(
        {
          actor: q.actor,
          action: q.action,
          targetType: q.target_type,
          targetId: q.target_id,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        },
        { limit: q.limit, offset: q.offset },
      );
      return { items: items.map(entryJson), total };
    },
  );
}
