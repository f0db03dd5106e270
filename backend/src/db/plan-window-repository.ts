import { eq, gt, sql } from 'drizzle-orm';
import type { UnifiedLimits } from '../anthropic/unified-limits.ts';
import type { Db } from './client.ts';
import { planWindows } from './schema.ts';

export interface PlanWindowRow {
  accessKeyId: string;
  userId: string;
  observedAt: Date;
  limits: UnifiedLimits;
  /** When the row last changed (the cursor other tasks read from). */
  updatedAt: Date;
}

export interface PlanWindowRepository {
  /** Upserts readings; an older reading never overwrites a newer one (tasks write concurrently). */
  save(rows: readonly Omit<PlanWindowRow, 'updatedAt'>[]): Promise<void>;
  /** Rows changed after `since` (all when null). */
  changedSince(since: Date | null): Promise<PlanWindowRow[]>;
  remove(accessKeyId: string): Promise<void>;
}

export function createPlanWindowRepository(db: Db): PlanWindowRepository {
  return {
    async save(rows) {
      if (rows.length === 0) return;
      await db
        .insert(planWindows)
        .values(rows.map((r) => ({ accessKeyId: r.accessKeyId, userId: r.userId, observedAt: r.observedAt, limits: r.limits })))
        .onConflictDoUpdate({
          target: planWindows.accessKeyId,
          set: { observedAt: sql`excluded.observed_at`, limits: sql`excluded.limits`, updatedAt: sql`clock_timestamp()` },
          setWhere: sql`${planWindows.observedAt} < excluded.observed_at`,
        });
    },
    async changedSince(since) {
      const rows = await db
        .select()
        .from(planWindows)
        .where(since ? gt(planWindows.updatedAt, since) : undefined);
      return rows.map((r) => ({ ...r, limits: r.limits as UnifiedLimits }));
    },
    async remove(accessKeyId) {
      await db.delete(planWindows).where(eq(planWindows.accessKeyId, accessKeyId));
    },
  };
}
