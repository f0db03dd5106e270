// A task killed with SIGKILL mid-burst loses at most the usage of the requests completed in the
// last flush interval (plus the write in flight), and no budget ends up counting less than it
// admitted. The real server process (src/main.ts) against the fake Anthropic and Bedrock, killed at
// a seeded random moment, restarted on the same DATA_DIR and database; then the same with the
// database unreachable during the burst, where the spill file carries the usage across the crash.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, or, inArray } from 'drizzle-orm';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd, toPico } from '../../src/accounting/money.ts';
import { createBudgetRepository } from '../../src/db/budget-repository.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { budgetLedgers, usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { testDatabaseKind } from '../support/db.ts';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.ts';
import { seededRandom } from '../support/seeded-random.ts';

const main = path.join(import.meta.dirname, '../../src/main.ts');
const ADMIN = { username: 'ops', password: 'crash-test-password' };
const BEDROCK_KEY = 'bedrock-api-key-ABSKY3Jhc2gtdGVzdA==';
const MODEL = 'claude-opus-5-5';
/** The recorder's flush interval (app.ts) and spill interval: what a crash may lose, by design. */
const FLUSH_MS = 250;
const SPILL_MS = 50;
/**
 * Beyond the interval: the batch write (or fsync) still running when the kill lands, and timer lag
 * on a shared 2-core machine, where the server, the fakes and this test all compete for CPU.
 */
const ALLOWANCE_MS = 250;

// A fixed seed gives the same kill moments on every run.
const random = seededRandom(20261125);

interface Server {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
}

async function startServer(dataDir: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_CREDENTIALS: JSON.stringify(ADMIN), ...env },
  });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // the access lines that follow are not read
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exit.then(() => reject(new Error(`server exited before listening:\n${output}`)));
  });
  return { child, url, exit };
}

async function adminApi(url: string) {
  const login = await request(`${url}/admin/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { access_token: token } = (await login.body.json()) as { access_token: string };
  return async <T>(method: 'POST' | 'PUT' | 'PATCH', route: string, body: unknown): Promise<T> => {
    const res = await request(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.body.json()) as T;
    if (res.statusCode >= 300) throw new Error(`${method} ${route}: ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  };
}

interface Keys {
  plan: { rawKey: string; userId: string };
  budgeted: { rawKey: string; userId: string };
}

async function setUp(url: string): Promise<Keys> {
  const admin = await adminApi(url);
  const user = async (name: string) => {
    const u = await admin<{ id: string }>('POST', '/admin/users', { name: `${name}-${randomBytes(3).toString('hex')}` });
    const k = await admin<{ id: string; raw_key: string }>('POST', `/admin/users/${u.id}/access-keys`, {});
    return { userId: u.id, accessKeyId: k.id, rawKey: k.raw_key };
  };
  const plan = await user('plan');
  const budgeted = await user('budgeted');
  await admin('PUT', `/admin/access-keys/${budgeted.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });
  await admin('PATCH', `/admin/users/${budgeted.userId}`, { routing_strategy: 'bedrock_only' });
  await admin('PUT', `/admin/users/${budgeted.userId}/budget`, { monthly_budget_usd: '1000' });
  return { plan, budgeted };
}

interface Outcome {
  kind: 'plan' | 'bedrock';
  status: number;
  /** The response's request-id: the proxy's id, or Anthropic's for a Plan answer passed through. */
  id: string;
  /** Status 200 and the whole stream, received at `completedAt`. */
  complete: boolean;
  completedAt: number;
}

async function send(url: string, rawKey: string, kind: Outcome['kind']): Promise<Outcome> {
  let status = 0;
  let id = '';
  try {
    const res = await request(`${url}/ak/${rawKey}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-crash' },
      body: JSON.stringify({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'count this' }] }),
    });
    status = res.statusCode;
    id = String(res.headers['request-id'] ?? '');
    const text = await res.body.text();
    return { kind, status, id, complete: status === 200 && text.includes('event: message_stop'), completedAt: Date.now() };
  } catch {
    return { kind, status, id, complete: false, completedAt: Date.now() };
  }
}

/** Requests on `lanes` concurrent loops (half Plan, half budgeted Bedrock) until `stop` is set. */
function burst(url: string, keys: Keys, lanes: number) {
  const outcomes: Outcome[] = [];
  const state = { stop: false };
  const done = Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const kind = lane % 2 === 0 ? 'plan' : 'bedrock';
      const key = kind === 'plan' ? keys.plan : keys.budgeted;
      while (!state.stop) outcomes.push(await send(url, key.rawKey, kind));
    }),
  );
  return { outcomes, stop: () => (state.stop = true), done };
}

interface Verdict {
  completed: number;
  missing: number;
  /** How long before the kill the oldest missing request completed (ms). */
  oldestMissingMs: number;
  spentUsd: string;
  realCostUsd: string;
}

/**
 * After the restarted server has stored what it replays and stopped: which completed requests are
 * missing, and the budget once the killed task's reservations are swept (as they will be, an
 * hour on, by any task: settled at their worst case).
 */
async function judge(database: Database, keys: Keys, outcomes: Outcome[], killedAt: number): Promise<Verdict> {
  const completed = outcomes.filter((o) => o.complete && o.completedAt <= killedAt);
  const ids = completed.map((o) => o.id);
  const rows = await database.db
    .select({ requestId: usageEvents.requestId, upstream: usageEvents.upstreamRequestId, userId: usageEvents.userId, provider: usageEvents.provider, cost: usageEvents.costUsd })
    .from(usageEvents)
    .where(or(inArray(usageEvents.requestId, ids), inArray(usageEvents.upstreamRequestId, ids), eq(usageEvents.userId, keys.budgeted.userId)));
  const stored = new Set(rows.flatMap((r) => [r.requestId, r.upstream ?? '']));
  const missing = completed.filter((o) => !stored.has(o.id));

  await createBudgetRepository(database.db).sweepExpired(new Date(Date.now() + 2 * 3_600_000));
  const [ledger] = await database.db.select().from(budgetLedgers).where(eq(budgetLedgers.userId, keys.budgeted.userId));
  // Every Bedrock answer of the fake costs the same; each admitted request (answered 200) was
  // charged by Bedrock whether or not the client read it all.
  const unit = rows.filter((r) => r.userId === keys.budgeted.userId && r.provider === 'bedrock').reduce((max, r) => (toPico(r.cost ?? '0') > max ? toPico(r.cost ?? '0') : max), 0n);
  const admitted = outcomes.filter((o) => o.kind === 'bedrock' && o.status === 200).length;
  return {
    completed: completed.length,
    missing: missing.length,
    oldestMissingMs: Math.max(0, ...missing.map((o) => killedAt - o.completedAt)),
    spentUsd: formatUsd(toPico(ledger?.spentUsd ?? '0')),
    realCostUsd: formatUsd(unit * BigInt(admitted)),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Restarts on the same disk and database, waits for the spill file to be replayed, stops cleanly. */
async function recover(dataDir: string, env: Record<string, string>): Promise<void> {
  const again = await startServer(dataDir, env);
  children.push(again);
  const spill = path.join(dataDir, 'usage-spill.jsonl');
  const spilled = () => fs.existsSync(spill) || fs.existsSync(`${spill}.replaying`);
  for (let i = 0; i < 200 && spilled(); i++) await sleep(50);
  expect(spilled()).toBe(false);
  again.child.kill('SIGTERM');
  expect(await again.exit).toBe(0);
}

/** SIGKILL, then stops the load (its requests now fail at once) and waits for it. */
async function kill(server: Server, load: ReturnType<typeof burst>): Promise<number> {
  const killedAt = Date.now();
  server.child.kill('SIGKILL');
  await server.exit;
  load.stop();
  await load.done;
  return killedAt;
}

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
const dirs: string[] = [];
const children: Server[] = [];
const kind = testDatabaseKind();
const baseUrl = process.env.TEST_DATABASE_URL ?? '';

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
});
afterAll(async () => {
  for (const s of children) s.child.kill('SIGKILL');
  await anthropic?.close();
  await bedrock?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh PostgreSQL database (dropped at the end), or PGlite in the data dir. */
async function freshDatabase(): Promise<{ url: string | null; open: (dataDir: string) => Promise<Database>; drop: () => Promise<void> }> {
  if (kind === 'pglite') return { url: null, open: (dataDir) => openDatabase({ kind: 'pglite', dataDir }), drop: async () => {} };
  const name = `crash_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: () => openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 }),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function serverEnv(databaseUrl: string | null): Record<string, string> {
  return {
    PLAN_API_URL: anthropic.url,
    BEDROCK_ENDPOINT: bedrock.url,
    BEDROCK_REGION: 'us-east-1',
    CIRCUIT_FAILURE_THRESHOLD: '1000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

async function warmUp(url: string, keys: Keys): Promise<void> {
  // Both keys known to the process (and the Bedrock key decrypted) before anything goes wrong.
  for (const o of [await send(url, keys.plan.rawKey, 'plan'), await send(url, keys.budgeted.rawKey, 'bedrock')]) expect(o.complete).toBe(true);
}

describe(`usage and budgets across a SIGKILL on ${kind}`, () => {
  it('loses at most the last flush interval of completed requests, and never under-counts a budget', { timeout: 60_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-crash-'));
    dirs.push(dataDir);
    const db = await freshDatabase();
    try {
      const env = serverEnv(db.url);
      const server = await startServer(dataDir, env);
      children.push(server);
      const keys = await setUp(server.url);
      await warmUp(server.url, keys);

      const load = burst(server.url, keys, 8);
      await sleep(600 + Math.floor(random() * 1200));
      const killedAt = await kill(server, load);
      await recover(dataDir, env);

      const database = await db.open(dataDir);
      const verdict = await judge(database, keys, load.outcomes, killedAt).finally(() => database.close());
      console.info(`crash-durability (${kind}, database up): ${JSON.stringify(verdict)}`);
      expect(verdict.completed).toBeGreaterThan(20);
      expect(toPico(verdict.realCostUsd)).toBeGreaterThan(0n);
      expect(verdict.oldestMissingMs).toBeLessThanOrEqual(FLUSH_MS + ALLOWANCE_MS);
      expect(toPico(verdict.spentUsd)).toBeGreaterThanOrEqual(toPico(verdict.realCostUsd));
    } finally {
      await db.drop();
    }
  });

  // The embedded database lives inside the process: it cannot become unreachable while it runs.
  it.skipIf(kind !== 'postgres')('with the database unreachable during the burst, the spill file carries the usage across the crash', { timeout: 60_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-crash-down-'));
    dirs.push(dataDir);
    const db = await freshDatabase();
    const target = new URL(db.url!);
    const relay: TcpRelay = await startTcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const env = serverEnv(relay.via(db.url!));
      const server = await startServer(dataDir, env);
      children.push(server);
      const keys = await setUp(server.url);
      await warmUp(server.url, keys);

      const load = burst(server.url, keys, 8);
      await sleep(300);
      relay.cut();
      const cutAt = Date.now();
      await sleep(600 + Math.floor(random() * 1200));
      const killedAt = await kill(server, load);
      expect(fs.existsSync(path.join(dataDir, 'usage-spill.jsonl'))).toBe(true);
      relay.restore();
      await recover(dataDir, env);

      const database = await db.open(dataDir);
      const verdict = await judge(database, keys, load.outcomes, killedAt).finally(() => database.close());
      const duringOutage = load.outcomes.filter((o) => o.complete && o.completedAt > cutAt && o.completedAt <= killedAt).length;
      console.info(`crash-durability (${kind}, database down): ${JSON.stringify({ ...verdict, completedDuringOutage: duringOutage })}`);
      expect(duringOutage).toBeGreaterThan(10);
      expect(verdict.oldestMissingMs).toBeLessThanOrEqual(SPILL_MS + ALLOWANCE_MS);
      expect(toPico(verdict.spentUsd)).toBeGreaterThanOrEqual(toPico(verdict.realCostUsd));
    } finally {
      await relay.close();
      await db.drop();
    }
  });
});
