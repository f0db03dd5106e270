import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPgListener } from '../../src/db/notification-listener.ts';
import { eventually } from '../support/admin.ts';
import { openTestDatabase, testDatabaseKind } from '../support/db.ts';

describe(`LISTEN on ${testDatabaseKind()}`, () => {
  it('hears notifications once their transaction commits, never a rolled-back one', async () => {
    const database = await openTestDatabase();
    const heard: string[] = [];
    const channel = `t_${randomBytes(4).toString('hex')}`;
    const stop = await database.notifications.listen(channel, { onPayload: (p) => heard.push(p), onGap: () => {} });
    try {
      await database.withSession(async (s) => {
        await s.exec('BEGIN');
        await s.query('SELECT pg_notify($1, $2)', [channel, 'committed']);
        expect(heard).toEqual([]);
        await s.exec('COMMIT');
        await s.exec('BEGIN');
        await s.query('SELECT pg_notify($1, $2)', [channel, 'rolled back']);
        await s.exec('ROLLBACK');
      });
      await eventually(() => expect(heard).toEqual(['committed']));
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toEqual(['committed']);
    } finally {
      await stop();
      await database.dispose();
    }
  });
});

// PGlite has no connection to lose.
if (testDatabaseKind() === 'postgres') describe('the PostgreSQL listener connection', () => {
  const url = process.env.TEST_DATABASE_URL!;

  async function sql(text: string, params: unknown[] = []) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  it('reconnects after the server drops it, reports the gap, and hears again', async () => {
    const applicationName = `ccproxy-test-${randomBytes(4).toString('hex')}`;
    const channel = `t_${randomBytes(4).toString('hex')}`;
    const heard: string[] = [];
    let gaps = 0;
    const errors: unknown[] = [];
    const stop = await createPgListener({ url, applicationName, minBackoffMs: 20, heartbeatMs: 500 }).listen(channel, {
      onPayload: (p) => heard.push(p),
      onGap: () => gaps++,
      onError: (err) => errors.push(err),
    });
    try {
      await sql('SELECT pg_notify($1, $2)', [channel, 'one']);
      await eventually(() => expect(heard).toEqual(['one']));

      // A database restart or failover, as the listener sees it.
      const killed = await sql('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      expect(killed).toEqual([{ ok: true }]);
      await eventually(() => expect(gaps).toBe(1));
      expect(errors.length).toBeGreaterThan(0);

      await sql('SELECT pg_notify($1, $2)', [channel, 'two']);
      await eventually(() => expect(heard).toEqual(['one', 'two']));
    } finally {
      await stop();
    }
    // Stopped means gone: no connection left behind.
    await eventually(async () => expect(await sql('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).toEqual([]));
  });
});
