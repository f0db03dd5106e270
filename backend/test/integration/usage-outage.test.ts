import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { count, countDistinct, eq, inArray, sql } from 'drizzle-orm';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { usageEvents, usageRollups } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminClient } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.ts';

// The database dies while requests flow: every request is still answered from upstream, usage
// waits in the recorder's queue, and after recovery usage_events has exactly one row per request.
// PostgreSQL only: the embedded database lives inside the process and cannot go away on its own
// (the recorder's own outage handling is tested on both in recorder.test.ts).

const BEDROCK_KEY = 'bedrock-api-key-ABSKb3V0YWdlLXRlc3Q=';
const params = { model: 'claude-opus-5-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'Still there?' }] };

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe.skipIf(testDatabaseKind() !== 'postgres')('usage through a database outage (PostgreSQL)', () => {
  const url = process.env.TEST_DATABASE_URL ?? '';
  const schema = `t_outage_${randomBytes(4).toString('hex')}`;
  let relay: TcpRelay;
  let direct: Database;
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;

  beforeAll(async () => {
    await adminQuery(url, `CREATE SCHEMA ${schema}`);
    direct = await openDatabase({ kind: 'postgres', url, searchPath: schema, poolSize: 2 });
    await migrate(direct);
    const target = new URL(url);
    relay = await startTcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
    const viaRelay = await openDatabase({ kind: 'postgres', url: relay.via(url), searchPath: schema, poolSize: 4 });
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1' }, { database: viaRelay });
  });
  afterAll(async () => {
    relay.restore();
    await proxy?.close();
    // node-postgres' pool.end() can wait forever for a client whose socket died during the outage
    // while it was checked out (its end() waits for an 'end' event that already fired): the test
    // does not wait longer than a few seconds for it.
    await Promise.race([proxy?.database.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
    await relay?.close();
    await anthropic?.close();
    await bedrock?.close();
    await direct?.close();
    await adminQuery(url, `DROP SCHEMA ${schema} CASCADE`);
  });

  it('answers every request while the database is down, and stores each exactly once after it is back', async () => {
    const admin = await adminClient(proxy);
    const plan = await proxy.createKey('plan-user');
    const onBedrock = await proxy.createKey('bedrock-user');
    const budgeted = await proxy.createKey('budgeted-user');
    for (const key of [onBedrock, budgeted]) {
      expect((await admin('PUT', `/admin/access-keys/${key.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).status).toBe(200);
      expect((await admin('PATCH', `/admin/users/${key.userId}`, { routing_strategy: 'bedrock_only' })).status).toBe(200);
    }
    expect((await admin('PUT', `/admin/users/${budgeted.userId}/budget`, { monthly_budget_usd: '100' })).status).toBe(200);
    // Known keys are answered from memory while the database is away: let the proxy meet this one.
    const warm = await request(`${proxy.url}/ak/${budgeted.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify(params) });
    expect(warm.statusCode).toBe(200);
    await warm.body.arrayBuffer();

    let sent = 0;
    const failures: string[] = [];
    const send = async (rawKey: string, stream: boolean) => {
      sent++;
      const res = await request(`${proxy.url}/ak/${rawKey}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ ...params, stream }),
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
      });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes(stream ? 'message_stop' : '"type":"message"')) failures.push(`${res.statusCode} ${text.slice(0, 200)}`);
    };
    // Requests keep flowing, four at a time, for as long as `flowing` is set.
    let flowing = true;
    const flow = (async () => {
      for (let i = 0; flowing; i++) {
        await Promise.all([send(plan.rawKey, true), send(plan.rawKey, false), send(onBedrock.rawKey, i % 2 === 0), send(onBedrock.rawKey, i % 2 === 1)]);
      }
    })();

    await new Promise((r) => setTimeout(r, 300));
    relay.cut();
    // Down long enough for the recorder to fail its flushes (every second) and back off.
    await new Promise((r) => setTimeout(r, 2500));
    // A budget cannot be checked without the database: that Bedrock call is refused, clearly.
    const refused = await request(`${proxy.url}/ak/${budgeted.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify(params) });
    const refusal = (await refused.body.json()) as { error: { type: string; message: string } };
    expect(refused.statusCode).toBe(503);
    expect(refusal.error.message).toContain('cannot check your monthly budget');
    // Usage waits in the spill file, not in memory, where a crash would take it (crash-durability.test.ts).
    const spill = path.join(proxy.config.dataDir, 'usage-spill.jsonl');
    expect(fs.existsSync(spill) || fs.existsSync(`${spill}.replaying`)).toBe(true);
    relay.restore();
    await new Promise((r) => setTimeout(r, 300));
    flowing = false;
    await flow;

    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(20);
    // Back: the queue drains (a few pooled connections may still be broken on the first try).
    await expect.poll(async () => proxy.app.recorder.flush().then(() => proxy.app.recorder.pending, () => -1), { timeout: 15_000, interval: 200 }).toBe(0);

    const users = [plan.userId, onBedrock.userId];
    const [rows] = await direct.db
      .select({ rows: count(), requests: countDistinct(usageEvents.requestId), upstream: countDistinct(usageEvents.upstreamRequestId) })
      .from(usageEvents)
      .where(inArray(usageEvents.userId, users));
    expect(rows).toEqual({ rows: sent, requests: sent, upstream: sent });
    const [rolled] = await direct.db
      .select({ requests: sql<string>`sum(${usageRollups.requests})::text` })
      .from(usageRollups)
      .where(sql`${usageRollups.granularity} = 'day' AND ${inArray(usageRollups.userId, users)}`);
    expect(Number(rolled!.requests)).toBe(sent);

    // And the budgeted user is served again, its refusal recorded once too.
    const served = await request(`${proxy.url}/ak/${budgeted.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify(params) });
    expect(served.statusCode).toBe(200);
    await served.body.arrayBuffer();
    await proxy.flushUsage();
    const budgetedRows = await direct.db.select().from(usageEvents).where(eq(usageEvents.userId, budgeted.userId));
    expect(budgetedRows.map((r) => r.statusCode).sort()).toEqual([200, 200, 503]);
  });
});
