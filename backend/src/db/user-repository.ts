import { and, asc, count, eq, isNull } from 'drizzle-orm';
import type { Db } from './client.ts';
import { users } from './schema.ts';

export type UserRow = typeof users.$inferSelect;

export interface UserRepository {
  create(input: { name: string; description: string | null }): Promise<UserRow>;
  list(page: { limit: number; offset: number }): Promise<{ items: UserRow[]; total: number }>;
  get(id: string): Promise<UserRow | null>;
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
  };
}
