import { lte, inArray, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { loginAttempts } from './schema.ts';

/** One sliding-window counter: at most `limit` admitted attempts per window. */
export interface LoginAttemptCounter {
  key: string;
  limit: number;
}

export interface LoginAttemptRepository {
  /**
   * Counts one attempt on every counter in one statement and returns, per key, how many ms until
   * that counter has room again (0: it admitted this attempt). Each counter admits on its own:
   * a full counter does not take the slot back from the others.
   */
  reserve(counters: readonly LoginAttemptCounter[], windowMs: number, now?: Date): Promise<Map<string, number>>;
  /** Forgets the counters (a correct password clears its own). */
  clear(keys: readonly string[]): Promise<void>;
  /** Deletes counters with nothing left in their window; returns how many. */
  sweep(now?: Date): Promise<number>;
}

export function createLoginAttemptRepository(db: Db): LoginAttemptRepository {
  return {
    async reserve(counters, windowMs, now = new Date()) {
      if (counters.length === 0) return new Map();
      const at = now.getTime();
      // The existing row's attempts still inside the window. ON CONFLICT DO UPDATE evaluates this on
      // the latest committed row after taking its lock, so concurrent attempts on every task queue
      // here and none sees a stale count.
      const recent = sql`ARRAY(SELECT t FROM unnest(${loginAttempts.attempts}) AS t WHERE t > ${at - windowMs}::bigint ORDER BY t)`;
      const admitted = sql`cardinality(${recent}) < excluded.max_attempts`;
      const rows = await db
        .insert(loginAttempts)
        .values(counters.map((c) => ({ key: c.key, attempts: [at], maxAttempts: c.limit, lastAdmitted: true, expiresAt: new Date(at + windowMs) })))
        .onConflictDoUpdate({
          target: loginAttempts.key,
          set: {
            attempts: sql`CASE WHEN ${admitted} THEN ${recent} || ${at}::bigint ELSE ${recent} END`,
            lastAdmitted: admitted,
            maxAttempts: sql`excluded.max_attempts`,
            expiresAt: sql`CASE WHEN ${admitted} THEN excluded.expires_at ELSE ${loginAttempts.expiresAt} END`,
          },
        })
        .returning({
          key: loginAttempts.key,
          // Refused: the counter has room again when its limit-th newest attempt leaves the window.
          waitMs: sql<number>`CASE WHEN ${loginAttempts.lastAdmitted} THEN 0
            ELSE ${loginAttempts.attempts}[cardinality(${loginAttempts.attempts}) - ${loginAttempts.maxAttempts} + 1] + ${windowMs}::bigint - ${at}::bigint END`.mapWith(Number),
        });
      return new Map(rows.map((r) => [r.key, Math.max(0, r.waitMs)]));
    },
    async clear(keys) {
      if (keys.length) await db.delete(loginAttempts).where(inArray(loginAttempts.key, [...keys]));
    },
    async sweep(now = new Date()) {
      const rows = await db.delete(loginAttempts).where(lte(loginAttempts.expiresAt, now)).returning({ key: loginAttempts.key });
      return rows.length;
    },
  };
}
