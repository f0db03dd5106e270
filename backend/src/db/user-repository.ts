import { and, asc, count, eq, isNull } from 'drizzle-orm';
import type { Db } from './client.ts';
import { users } from './schema.ts';

export type UserRow = typeof users.$inferSelect;
export type UserChanges = Partial<Pick<UserRow, 'name' | 'description' | 'routingStrategy' | 'monthlyBudgetUsd'>>;

export interface UserRepository {
  create(input: { name: string; description: string | null }): Promise<UserRow>;
  list(page: { limit: number; offset: number }): Promise<{ items: UserRow[]; total: number }>;
  get(id: string): Promise<UserRow | null>;
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
    async list({ limit, offset }) {
      const [items, [total]] = await Promise.all([
        db.select().from(users).where(live).orderBy(asc(users.createdAt), asc(users.id)).limit(limit).offset(offset),
        db.select({ n: count() }).from(users).where(live),
      ]);
      return { items, total: Number(total?.n ?? 0) };
    },
    async get(id) {
      const [row] = await db.select().from(users).where(and(eq(users.id, id), live)).limit(1);
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
