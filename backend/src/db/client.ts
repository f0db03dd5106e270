import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { createPgListener, createPgliteListener, type NotificationListener } from './notification-listener.ts';
import { schema, type Schema } from './schema.ts';
import { pgConnection, urlSslMode, type DatabaseTls } from './tls.ts';

export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** One database session: advisory locks and multi-statement SQL need the same connection throughout. */
export interface SqlSession {
  exec(sql: string): Promise<void>;
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** LISTEN for pg_notify (cache coherence across processes: db/change-feed.ts). */
  notifications: NotificationListener;
  close(): Promise<void>;
  /** PGlite only: the whole database as a tarball (tests clone a migrated one). */
  dump?(): Promise<Blob>;
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; tls?: DatabaseTls; searchPath?: string; poolSize?: number }
  | { kind: 'pglite'; dataDir?: string; loadDataDir?: Blob };

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.kind === 'postgres' ? openPostgres(options) : openPglite(options);
}

async function openPostgres(options: { url: string; tls?: DatabaseTls; searchPath?: string; poolSize?: number }): Promise<Database> {
  // Without TLS settings, the URL's own sslmode (none: plaintext), as db/tls.ts reads it.
  const connection = pgConnection(options.url, options.tls ?? { mode: urlSslMode(options.url) ?? 'disable' });
  const pool = new pg.Pool({
    ...connection,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  // Nor may a checked-out one (a transaction, a session): pg emits 'error' on the client as well as
  // failing its query, and with no listener that event would be an uncaught exception.
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    db: drizzlePg(pool, { schema }) as unknown as Db,
    kind: 'postgres',
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => void (await client.query(sql)),
          query: async (sql, params) => (await client.query(sql, params)).rows,
        });
      } finally {
        client.release();
      }
    },
    notifications: createPgListener({ url: connection.connectionString, ssl: connection.ssl }),
    close: () => pool.end(),
  };
}

async function openPglite(options: { dataDir?: string; loadDataDir?: Blob }): Promise<Database> {
  let releaseLock = () => {};
  let dir: string | undefined;
  if (options.dataDir) {
    privateDirectory(options.dataDir);
    releaseLock = lockDirectory(options.dataDir);
    dir = path.join(options.dataDir, 'pglite');
    privateDirectory(dir);
  }
  let client: PGlite;
  try {
    client = await PGlite.create(dir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  } catch (err) {
    releaseLock();
    throw err;
  }
  const session: SqlSession = {
    exec: async (sql) => void (await client.exec(sql)),
    query: async (sql, params) => (await client.query(sql, params)).rows as never,
  };
  // PGlite has one connection, so every caller shares one session, where advisory locks are
  // re-entrant: sessions are therefore taken one at a time here.
  let sessionQueue: Promise<unknown> = Promise.resolve();
  return {
    db: drizzlePglite(client, { schema }) as unknown as Db,
    kind: 'pglite',
    withSession(fn) {
      const run = sessionQueue.then(() => fn(session));
      sessionQueue = run.catch(() => {});
      return run;
    },
    async close() {
      await client.close();
      releaseLock();
    },
    dump: () => client.dumpDataDir('none'),
    notifications: createPgliteListener(client),
  };
}

/**
 * The database files (and the secrets and spilled usage beside them) are for this user only: the
 * directory is created 0700 and an existing one narrowed to it, whatever the umask, so nobody else
 * can read or change anything beneath it whatever the files' own modes.
 */
function privateDirectory(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/**
 * PGlite has no lock of its own: two processes on one directory would corrupt it. A lock file
 * holding our PID keeps the second one out; a lock left by a dead process is taken over.
 */
function lockDirectory(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new DatabaseLockedError(
          `the embedded database in ${dataDir} is in use by process ${holder}; stop that process, or set DATA_DIR or DATABASE_URL`,
        );
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new DatabaseLockedError(`could not lock ${lockFile}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
