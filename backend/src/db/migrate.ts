import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './client.ts';

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_ID = 727_001;

export interface Migration {
  version: string;
  sql: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: file.replace(/\.sql$/, ''), sql: fs.readFileSync(path.join(dir, file), 'utf8') }));
}

/**
 * Applies pending migrations in order, each in its own transaction, under a session advisory lock
 * so several tasks starting at once apply each migration exactly once. Returns what it applied.
 */
export async function migrate(database: Database, migrations = readMigrations()): Promise<string[]> {
  return database.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await session.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await session.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await session.exec('BEGIN');
        try {
          await session.exec(migration.sql);
          await session.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
          await session.exec('COMMIT');
        } catch (err) {
          await session.exec('ROLLBACK');
          throw new Error(`migration ${migration.version} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(migration.version);
      }
      return applied;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  });
}

/** True when every migration on disk is recorded as applied (for /ready). */
export async function isMigrated(database: Database, migrations = readMigrations()): Promise<boolean> {
  return database.withSession(async (session) => {
    const rows = await session.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    return migrations.every((m) => done.has(m.version));
  });
}
