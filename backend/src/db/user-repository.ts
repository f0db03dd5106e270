import { and, asc, count, eq, ilike, isNotNull, isNull, or, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { users } from './schema.ts';

export type UserRow = typeof users.$inferSelect;
export type UserChanges = Partial<Pick<UserRow, 'name' | 'description' | 'routingStrategy' | 'monthlyBudgetUsd' | 'maxRequestsPerMinute' | 'maxInFlight' | 'planSwitchThreshold' | 'planOverage'>>;
export type UserStatus = UserRow['status'];

export interface UserListQuery {
  limit: number;
  offset: number;
  /** One status; absent: every user not deleted. */
  status?: UserStatus | undefined;
  /** Case-insensitive substring of the name. */
  q?: string | undefined;
}

export interface UserRepository {
  create(input: { name: string; description: string | null }): Promise<UserRow>;
  list(query: UserListQuery): Promise<{ items: UserRow[]; total: number }>;
  get(id: string): Promise<UserRow | null>;
  /** Deleted users too (their usage and audit trail outlive them). */
  getIncludingDeleted(id: string): Promise<UserRow | null>;
  /** Moves a live user from one status to another; null when it is not in `from`. */
  setStatus(id: string, from: Exclude<UserStatus, 'deleted'>, to: Exclude<UserStatus, 'deleted'>): Promise<UserRow | null>;
  /** Soft delete: status deleted, deleted_at now; the row and its usage stay. Null when not live. */
  softDelete(id: string): Promise<UserRow | null>;
  /** Applies the given fields to a live (not deleted) user; null when there is none. */
  update(id: string, changes: UserChanges): Promise<UserRow | null>;
}

export function createUserRepository(db: Db): UserRepository {
  const live = isNull(users.deletedAt);
  return {
    async create(input) {
      const [row] = await db.insert(users).values(input).returning();
      return row!;
    },
    async list({ limit, offset, status, q }) {
      const where: SQL[] = [status === 'deleted' ? isNotNull(users.deletedAt) : live];
      if (status && status !== 'deleted') where.push(eq(users.status, status));
      if (q) {
        const part = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.push(or(ilike(users.name, part), ilike(users.email, part))!);
      }
      const condition = and(...where);
      const [items, [total]] = await Promise.all([
        db.select().from(users).where(condition).orderBy(asc(users.createdAt), asc(users.id)).limit(limit).offset(offset),
        db.select({ n: count() }).from(users).where(condition),
      ]);
      return { items, total: Number(total?.n ?? 0) };
    },
    async get(id) {
      const [row] = await db.select().from(users).where(and(eq(users.id, id), live)).limit(1);
      return row ?? null;
    },
    async getIncludingDeleted(id) {
      const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
      return row ?? null;
    },
    async setStatus(id, from, to) {
      const [row] = await db
        .update(users)
        .set({ status: to, updatedAt: new Date() })
        .where(and(eq(users.id, id), eq(users.status, from), live))
        .returning();
      return row ?? null;
    },
    async softDelete(id) {
      const now = new Date();
      const [row] = await db
        .update(users)
        .set({ status: 'deleted', deletedAt: now, updatedAt: now })
        .where(and(eq(users.id, id), live))
        .returning();
      return row ?? null;
    },
    async update(id, changes) {
      const [row] = await db
        .update(users)
        .set({ ...changes, updatedAt: new Date() })
        .where(and(eq(users.id, id), live))
        .returning();
      return row ?? null;
    },
  };
}
