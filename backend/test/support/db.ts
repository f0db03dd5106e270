import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

export type TestDatabase = Database & {
  dispose(): Promise<void>;
  /**
   * Another handle on the same data, as a second proxy task would have: its own pool on the same
   * PostgreSQL schema; on PGlite (one process by nature) the same database.
   */
  openPeer(): Promise<Database>;
};

/** Which database this test run uses: PGlite always; real PostgreSQL in the `integration:postgres` project. */
export const testDatabaseKind = (): 'pglite' | 'postgres' => (process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite');

/**
 * A fresh, migrated database of its own for one test file: a clone of the migrated PGlite template,
 * or a new schema on TEST_DATABASE_URL (dropped again by dispose).
 */
export async function openTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (testDatabaseKind() === 'postgres') {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) throw new Error('TEST_DB=postgres needs TEST_DATABASE_URL');
    const schemaName = `t_${randomBytes(6).toString('hex')}`;
    await adminQuery(url, `CREATE SCHEMA ${schemaName}`);
    const database = await openDatabase({ kind: 'postgres', url, searchPath: schemaName, poolSize: 4 });
    if (migrated) await migrate(database);
    return {
      ...database,
      openPeer: () => openDatabase({ kind: 'postgres', url, searchPath: schemaName, poolSize: 4 }),
      async dispose() {
        await database.close();
        await adminQuery(url, `DROP SCHEMA ${schemaName} CASCADE`);
      },
    };
  }
  const database = migrated
    ? await openDatabase({ kind: 'pglite', loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) })
    : await openDatabase({ kind: 'pglite' });
  return { ...database, dispose: () => database.close(), openPeer: async () => ({ ...database, close: async () => {} }) };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
