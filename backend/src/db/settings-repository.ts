import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';

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

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export function createSettingsRepository(db: Db): SettingsRepository {
  return {
    async timeZone() {
      const result = await db.execute(sql`
        SELECT (SELECT time_zone FROM settings) AS time_zone,
               EXISTS (SELECT 1 FROM usage_rollups) OR EXISTS (SELECT 1 FROM budget_ledgers) AS has_zoned_data`);
      const [row] = rowsOf<{ time_zone: string | null; has_zoned_data: boolean }>(result);
      return { timeZone: row?.time_zone ?? null, hasZonedData: row?.has_zoned_data ?? false };
    },
    async recordTimeZone(timeZone) {
      await db.execute(sql`UPDATE settings SET time_zone = ${timeZone}, updated_at = now()`);
    },
  };
}
