import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { settings } from './schema.ts';

// The database's own settings (migration 0009): today the time zone its rollups are cut in.

export interface StoredTimeZone {
  /** The zone recorded for this database, or null before any task recorded one. */
  timeZone: string | null;
  /** Whether anything is already cut in a zone: usage rollups (hour/day/month) or budget months. */
  hasZonedData: boolean;
  /** The start of the latest day bucket in usage_rollups (midnight in the zone it was cut in), if any. */
  latestDayStart: Date | null;
}

export interface SettingsRepository {
  timeZone(): Promise<StoredTimeZone>;
  recordTimeZone(timeZone: string): Promise<void>;
}

export function createSettingsRepository(db: Db): SettingsRepository {
  return {
    async timeZone() {
      const [row] = await db
        .select({
          timeZone: settings.timeZone,
          hasZonedData: sql<boolean>`EXISTS (SELECT 1 FROM usage_rollups) OR EXISTS (SELECT 1 FROM budget_ledgers)`,
          latestDayStart: sql<string | Date | null>`(SELECT max(bucket_start) FROM usage_rollups WHERE granularity = 'day')`,
        })
        .from(settings);
      const latest = row?.latestDayStart;
      return { timeZone: row?.timeZone ?? null, hasZonedData: row?.hasZonedData ?? false, latestDayStart: latest ? new Date(latest) : null };
    },
    async recordTimeZone(timeZone) {
      await db.update(settings).set({ timeZone, updatedAt: sql`now()` });
    },
  };
}
