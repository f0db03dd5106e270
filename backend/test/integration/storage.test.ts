import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseLockedError, openDatabase } from '../../src/db/client.ts';
import { isMigrated, migrate, readMigrations } from '../../src/db/migrate.ts';
import { schema } from '../../src/db/schema.ts';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/db.ts';

describe(`migrations on ${testDatabaseKind()}`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase({ migrated: false });
  });
  afterAll(() => database.dispose());

  it('apply every migration to an empty database exactly once, even when started concurrently', async () => {
    const versions = readMigrations().map((m) => m.version);
    expect(versions[0]).toBe('0001_init');
    expect(new Set(versions).size).toBe(versions.length);
    // Several tasks starting at once: the advisory lock lets one apply, the others find it done.
    const runs = await Promise.all([migrate(database), migrate(database), migrate(database)]);
    expect(runs.flat()).toEqual(versions);
    expect(await migrate(database)).toEqual([]);
    expect(await isMigrated(database)).toBe(true);
  });

  it('create exactly the columns the Drizzle schema declares', async () => {
    const rows = await database.withSession((s) =>
      s.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'`,
      ),
    );
    const actual = new Map<string, string[]>();
    for (const r of rows) actual.set(r.table_name, [...(actual.get(r.table_name) ?? []), r.column_name].sort());
    for (const table of Object.values(schema)) {
      const config = getTableConfig(table);
      expect(actual.get(config.name), config.name).toEqual(config.columns.map((c) => c.name).sort());
    }
    expect([...actual.keys()].sort()).toEqual(Object.values(schema).map((t) => getTableConfig(t).name).sort());
  });

  it('keep money as numeric, never float', async () => {
    const rows = await database.withSession((s) =>
      s.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND column_name LIKE '%usd%'`,
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.data_type, r.column_name).toBe('numeric');
  });

  it('run queries through the same Drizzle layer on both drivers', async () => {
    const result = await database.db.execute(sql`SELECT count(*)::int AS n FROM users`);
    expect((result as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
  });
});

describe('the embedded database directory', () => {
  it('cannot be opened by a second process while one holds it, and a stale lock is taken over', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-lock-'));
    try {
      // Another (live) process holds the directory: our parent, for instance.
      fs.writeFileSync(path.join(dir, 'pglite.lock'), String(process.ppid));
      await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(DatabaseLockedError);
      await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(`is in use by process ${process.ppid}`);

      // A process that died without cleaning up: its lock no longer counts.
      fs.writeFileSync(path.join(dir, 'pglite.lock'), '2147483646');
      const database = await openDatabase({ kind: 'pglite', dataDir: dir });
      expect(fs.readFileSync(path.join(dir, 'pglite.lock'), 'utf8')).toBe(String(process.pid));
      await database.close();
      expect(fs.existsSync(path.join(dir, 'pglite.lock'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is private to its user: created 0700 whatever the umask, an existing open one narrowed to it', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-mode-'));
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    const umask = process.umask(0); // the most permissive umask: nothing may come out world-writable
    try {
      const fresh = path.join(parent, 'fresh', 'data');
      const database = await openDatabase({ kind: 'pglite', dataDir: fresh });
      await database.close();
      expect(mode(fresh)).toBe(0o700);
      expect(mode(path.join(fresh, 'pglite'))).toBe(0o700);

      // A directory made open by hand (or by an older version) is narrowed when opened.
      const open = path.join(parent, 'open');
      fs.mkdirSync(path.join(open, 'pglite'), { recursive: true, mode: 0o777 });
      fs.chmodSync(open, 0o777);
      fs.chmodSync(path.join(open, 'pglite'), 0o777);
      const again = await openDatabase({ kind: 'pglite', dataDir: open });
      expect(mode(path.join(open, 'pglite.lock'))).toBe(0o600);
      await again.close();
      expect(mode(open)).toBe(0o700);
      expect(mode(path.join(open, 'pglite'))).toBe(0o700);
    } finally {
      process.umask(umask);
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
