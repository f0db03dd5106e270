import { and, asc, count, eq, gte, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { users } from './schema.ts';
import type { UserRow } from './user-repository.ts';

/** Users by the email the identity provider names them with (admin/oidc.ts, admin/user-emails.ts). */
export interface UserIdentityRepository {
  /** The live (not deleted) user with this email, whatever its case. */
  findByEmail(email: string): Promise<UserRow | null>;
  setEmail(userId: string, email: string | null): Promise<UserRow | null>;
  /** Live users that have an email (those an identity provider can know), oldest first, and how many there are. */
  listWithEmail(page: { offset: number; limit: number }): Promise<{ items: UserRow[]; total: number }>;
  /** A user for a person signing in for the first time (SELF_ENROLMENT): named and linked by their email. */
  enrol(email: string, defaults: { routingStrategy: UserRow['routingStrategy']; monthlyBudgetUsd: string | null }): Promise<UserRow>;
  /**
   * What stands against a person signed in with the identity provider since `since` (admin/auth.ts):
   * `deleted` when their user (by id) is gone or a user of their email was deleted after `since`,
   * `inactive` when either is deactivated, else null.
   */
  personStanding(person: { userId: string | null; email: string; since: Date }): Promise<'deleted' | 'inactive' | null>;
}

export function createUserIdentityRepository(db: Db): UserIdentityRepository {
  return {
    async findByEmail(email) {
      const [row] = await db
        .select()
        .from(users)
        .where(and(eq(sql`lower(${users.email})`, email.toLowerCase()), isNull(users.deletedAt)));
      return row ?? null;
    },
    async setEmail(userId, email) {
      const [row] = await db
        .update(users)
        .set({ email, updatedAt: sql`now()` })
        .where(and(eq(users.id, userId), isNull(users.deletedAt)))
        .returning();
      return row ?? null;
    },
    async listWithEmail({ offset, limit }) {
      const where = and(isNotNull(users.email), isNull(users.deletedAt));
      const [items, [counted]] = await Promise.all([
        db.select().from(users).where(where).orderBy(asc(users.createdAt), asc(users.id)).offset(offset).limit(limit),
        db.select({ n: count() }).from(users).where(where),
      ]);
      return { items, total: counted?.n ?? 0 };
    },
    async enrol(email, defaults) {
      const [row] = await db.insert(users).values({ name: email, email, description: 'enrolled at first sign-in', ...defaults }).returning();
      return row!;
    },
    async personStanding({ userId, email, since }) {
      // A user deleted before the sign-in is history (the person may have been provisioned again).
      const byEmail = and(eq(sql`lower(${users.email})`, email.toLowerCase()), or(isNull(users.deletedAt), gte(users.deletedAt, since)));
      const rows = await db
        .select({ id: users.id, status: users.status, deletedAt: users.deletedAt })
        .from(users)
        .where(userId ? or(eq(users.id, userId), byEmail) : byEmail);
      if ((userId && !rows.some((r) => r.id === userId)) || rows.some((r) => r.deletedAt !== null)) return 'deleted';
      return rows.some((r) => r.status === 'inactive') ? 'inactive' : null;
    },
  };
}
