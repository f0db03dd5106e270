import { and, count, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { adminAuditLog } from './schema.ts';

export type AuditRow = typeof adminAuditLog.$inferSelect;
export type AuditInsert = Omit<typeof adminAuditLog.$inferInsert, 'id' | 'occurredAt'>;

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** occurred_at ≥ since */
  since?: Date | undefined;
  /** occurred_at < until */
  until?: Date | undefined;
}

/** admin_audit_log: append and read; the table itself refuses updates and deletes. */
export interface AuditRepository {
  append(entry: AuditInsert): Promise<AuditRow>;
  /** Newest first, with the number of rows the filter matches. */
  list(filter: AuditFilter, page: { limit: number; offset: number }): Promise<{ items: AuditRow[]; total: number }>;
}

export function createAuditRepository(db: Db): AuditRepository {
  return {
    async append(entry) {
      const [row] = await db.insert(adminAuditLog).values(entry).returning();
      return row!;
    },
    async list(filter, { limit, offset }) {
      const where: SQL[] = [];
      if (filter.actor) where.push(eq(adminAuditLog.actor, filter.actor));
      if (filter.action) where.push(eq(adminAuditLog.action, filter.action));
      if (filter.targetType) where.push(eq(adminAuditLog.targetType, filter.targetType));
      if (filter.targetId) where.push(eq(adminAuditLog.targetId, filter.targetId));
      if (filter.since) where.push(gte(adminAuditLog.occurredAt, filter.since));
      if (filter.until) where.push(lt(adminAuditLog.occurredAt, filter.until));
      const condition = where.length ? and(...where) : undefined;
      const [items, [total]] = await Promise.all([
        db.select().from(adminAuditLog).where(condition).orderBy(desc(adminAuditLog.occurredAt), desc(adminAuditLog.id)).limit(limit).offset(offset),
        db.select({ n: count() }).from(adminAuditLog).where(condition),
      ]);
      return { items, total: Number(total?.n ?? 0) };
    },
  };
}
