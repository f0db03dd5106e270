import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { AuditRow } from '../db/audit-repository.ts';
import type { AdminDeps } from './plugin.ts';
import { AuditEntry, AuditPage, AuditQuery } from './schemas.ts';

function entryJson(row: AuditRow): Static<typeof AuditEntry> {
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
        response: { 200: AuditPage },
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
