/**
 * Throughput of the usage writer: events per second from the recorder's queue into PostgreSQL,
 * each batch one transaction with the events, their hour/day/month rollups and the Bedrock budget
 * ledger — the same code path as the proxy (UsageRecorder → usage/accounting-services.ts).
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/usage-writer.ts
 *   (falls back to TEST_DATABASE_URL; BENCH_EVENTS=100000 BENCH_USERS=50 BENCH_BATCH=500 to vary;
 *   BENCH_DATABASE_URL=pglite measures the embedded database instead)
 *
 * It works in a schema of its own, dropped at the end.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { UsageRecorder } from '../backend/src/usage/recorder.ts';
import { createAccountingServices } from '../backend/src/usage/accounting-services.ts';
import type { UsageEvent } from '../backend/src/accounting/usage-event.ts';
import { createAccessKeyRepository } from '../backend/src/db/access-key-repository.ts';
import { openDatabase, type Database } from '../backend/src/db/client.ts';
import { migrate } from '../backend/src/db/migrate.ts';
import { createUserRepository } from '../backend/src/db/user-repository.ts';

const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) throw new Error('set BENCH_DATABASE_URL (a postgres:// URL, or "pglite")');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const USERS = Number(process.env.BENCH_USERS ?? 50);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const MODELS: [UsageEvent['provider'], string][] = [
  ['plan', 'claude-opus-5-5'],
  ['plan', 'claude-sonnet-5-5'],
  ['plan', 'claude-haiku-4-5-20251001'],
  ['bedrock', 'us.anthropic.claude-opus-5-5'],
  ['bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'],
];

async function main(): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pglite = url === 'pglite';
  if (!pglite) await admin(`CREATE SCHEMA ${schema}`);
  let database: Database | undefined;
  try {
    database = pglite ? await openDatabase({ kind: 'pglite' }) : await openDatabase({ kind: 'postgres', url: url!, searchPath: schema, poolSize: 4 });
    await migrate(database);
    const users = createUserRepository(database.db);
    const keys = createAccessKeyRepository(database.db);
    const owners: { userId: string; accessKeyId: string }[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = await users.create({ name: `bench-${i}`, description: null });
      const key = await keys.create({ userId: user.id, keyHash: randomBytes(32).toString('hex'), keyPrefix: 'ak_bench', bedrockRegion: null });
      owners.push({ userId: user.id, accessKeyId: key.id });
    }
    const logger = pino({ level: 'warn' });
    const accounting = await createAccountingServices({ db: database.db, timeZone: 'Asia/Seoul', logger });
    const recorder = new UsageRecorder({ repository: accounting.usage, price: accounting.price, spillFile: `/tmp/${schema}.jsonl`, logger, batchSize: BATCH, flushIntervalMs: 3_600_000 });

    // A working day of traffic: events spread over 8 hours, every user, model and provider.
    const start = Date.now() - 8 * 3_600_000;
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const [provider, model] = MODELS[i % MODELS.length]!;
      recorder.record({
        requestId: `req_${randomUUID().replaceAll('-', '')}`,
        occurredAt: new Date(start + Math.floor((i / EVENTS) * 8 * 3_600_000)),
        ...owners[i % owners.length]!,
        endpoint: 'messages',
        provider,
        isFallback: provider === 'bedrock',
        fallbackReason: provider === 'bedrock' ? 'rate_limited' : null,
        requestedModel: model,
        servedModel: model,
        stream: true,
        statusCode: 200,
        outcome: 'completed',
        errorType: null,
        stopReason: 'end_turn',
        inputTokens: 10 + (i % 500),
        outputTokens: 200 + (i % 3000),
        cacheReadTokens: 40_000 + (i % 20_000),
        cacheWrite5mTokens: i % 7 === 0 ? 3000 : 0,
        cacheWrite1hTokens: i % 11 === 0 ? 1500 : 0,
        latencyMs: 1200,
        ttfbMs: 400,
        upstreamRequestId: null,
        region: provider === 'bedrock' ? 'us-east-1' : null,
      });
    }
    const queued = performance.now() - t0;
    const t1 = performance.now();
    await recorder.flush();
    const seconds = (performance.now() - t1) / 1000;
    await recorder.close();
    accounting.stop();

    // Both drivers answer { rows }.
    const rows = (await database.db.execute(
      sql`SELECT (SELECT count(*) FROM usage_events)::int AS events, (SELECT count(*) FROM usage_rollups)::int AS rollups`,
    )) as unknown as { rows: { events: number; rollups: number }[] };
    const stored = rows.rows[0]!;
    if (stored.events !== EVENTS) throw new Error(`stored ${stored.events} of ${EVENTS} events`);
    console.log(
      JSON.stringify(
        {
          database: pglite ? 'pglite (embedded)' : `postgresql (${(await database.withSession((s) => s.query<{ v: string }>("SELECT current_setting('server_version') AS v")))[0]!.v})`,
          events: EVENTS,
          users: USERS,
          batchSize: BATCH,
          rollupRows: stored.rollups,
          pricingAndQueueingMs: Math.round(queued),
          writeSeconds: Number(seconds.toFixed(2)),
          eventsPerSecond: Math.round(EVENTS / seconds),
        },
        null,
        2,
      ),
    );
  } finally {
    await database?.close();
    if (!pglite) await admin(`DROP SCHEMA ${schema} CASCADE`);
  }
}

await main();
