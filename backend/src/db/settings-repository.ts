import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { settings } from './schema.ts';

// The database's own settings (migration 0009): today the time zone its rollups are cut in.

export interface StoredTimeZone {
  /** The zone recorded for this database, or null before any task recorded one. */
  timeZone: string | null;
  /** Whether anything is already cut in a zone: usage rollups (hour/day/month) or budget months. */
  hasZonedData: boolean;
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
        })
        .from(settings);
      return { timeZone: row?.timeZone ?? null, hasZonedData: row?.hasZonedData ?? false };
    },
    async recordTimeZone(timeZone) {
      await db.update(settings).set({ timeZone, updatedAt: sql`now()` });
    },
  };
}
