// Issue 6: a rolling deploy loses no stream and no usage record. The real server process (`npm
// start`'s entry point) on an embedded database, stopped with SIGTERM while streams run.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { METRICS } from '../../src/observability/metric-names.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { encodeSse, messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { testDatabaseKind } from '../support/db.ts';
import { emfDocuments, emfSum } from '../support/emf.ts';

const main = path.join(import.meta.dirname, '../../src/main.ts');
const ADMIN = { username: 'ops', password: 'shutdown-test-password' };
const MODEL = 'claude-opus-5-5';

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  exit: Promise<number | null>;
}

const running: Server[] = [];

/** The server process on the shared embedded database; resolves once it listens. */
async function startServer(dataDir: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      PATH: process.env.PATH,
      AWS_EC2_METADATA_DISABLED: 'true',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_CREDENTIALS: JSON.stringify(ADMIN),
      METRICS: 'cloudwatch',
      METRICS_FLUSH_INTERVAL: '3600',
      ...env,
    },
  });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) resolve(m[1]!);
    });
    void exit.then(() => reject(new Error(`server exited before listening:\n${output}`)));
  });
  const server = { child, url, port: Number(new URL(url).port), output: () => output, exit };
  running.push(server);
  return server;
}

/** Resolves once the server has logged that it began shutting down (the signal was handled). */
async function shuttingDown(server: Server): Promise<void> {
  while (!server.output().includes('shutting down')) await new Promise((r) => setTimeout(r, 10));
}

/** Logs in and creates a user with one access key through the admin API. */
async function issueKey(url: string): Promise<{ rawKey: string; userId: string }> {
  const login = await request(`${url}/admin/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { access_token: token } = (await login.body.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const user = (await (await request(`${url}/admin/users`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `drain-${Date.now()}` }) })).body.json()) as { id: string };
  const key = (await (await request(`${url}/admin/users/${user.id}/access-keys`, { method: 'POST', headers: auth, body: '{}' })).body.json()) as { raw_key: string };
  return { rawKey: key.raw_key, userId: user.id };
}

interface Stream {
  /** Resolves with everything received, once the first chunk has arrived. */
  started: Promise<void>;
  done: Promise<{ status: number; body: Buffer; error?: Error }>;
}

/** A streamed request on a connection of its own; `done` settles however the response ends. */
function openStream(url: string, rawKey: string, dispatcher: Agent, stream = true): Stream {
  let started!: () => void;
  const startedP = new Promise<void>((resolve) => (started = resolve));
  const done = (async () => {
    const res = await request(`${url}/ak/${rawKey}/v1/messages`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-drain' },
      body: JSON.stringify({ model: MODEL, max_tokens: 64, stream, messages: [{ role: 'user', content: 'a long answer, please' }] }),
    });
    if (!stream) started();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        started();
      }
      return { status: res.statusCode, body: Buffer.concat(chunks) };
    } catch (error) {
      return { status: res.statusCode, body: Buffer.concat(chunks), error: error as Error };
    }
  })();
  return { started: startedP, done };
}

/** True once a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function usageRows(dataDir: string, userId: string) {
  const database = await openDatabase({ kind: 'pglite', dataDir });
  try {
    return await database.db.select().from(usageEvents).where(eq(usageEvents.userId, userId));
  } finally {
    await database.close();
  }
}

let fake: FakeAnthropic;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-shutdown-'));
});
afterEach(async () => {
  // A test that failed half-way must not leave its server holding the database for the next one.
  for (const server of running.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server.exit;
  }
});
afterAll(async () => {
  await fake.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// Spawns real processes on the embedded database: not repeated for the PostgreSQL project.
describe.skipIf(testDatabaseKind() === 'postgres')('SIGTERM', () => {
  it('with 20 streams in flight: /ready turns 503, new connections are refused, all 20 complete, every usage event is stored, exit 0', { timeout: 90_000 }, async () => {
    const server = await startServer(dataDir, { PLAN_API_URL: fake.url, SHUTDOWN_DRAIN_SECONDS: '60', SHUTDOWN_DELAY_SECONDS: '1.5' });
    const { rawKey, userId } = await issueKey(server.url);
    const events = messageToEvents(textMessage({ text: 'an answer that takes its time to arrive, in many small parts' }), { textChunks: 20 });
    for (let i = 0; i < 20; i++) fake.reply({ kind: 'stream', events, delayMs: 100 }); // over 2 s each
    const dispatcher = new Agent({ connections: 30 });
    const streams = Array.from({ length: 20 }, () => openStream(server.url, rawKey, dispatcher));
    await Promise.all(streams.map((s) => s.started));

    server.child.kill('SIGTERM');
    await shuttingDown(server);
    // At once: not ready (the load balancer stops sending), still alive, still accepting for a moment.
    const ready = await request(`${server.url}/ready`, { dispatcher: new Agent() });
    expect(ready.statusCode).toBe(503);
    await ready.body.text();
    const health = await request(`${server.url}/health`, { dispatcher: new Agent() });
    expect(health.statusCode).toBe(200);
    await health.body.text();
    // After SHUTDOWN_DELAY_SECONDS: new connections are refused while the streams still run.
    let refusedWhileStreaming = false;
    for (let i = 0; i < 100 && !refusedWhileStreaming; i++) {
      refusedWhileStreaming = await refused(server.port);
      if (!refusedWhileStreaming) await new Promise((r) => setTimeout(r, 100));
    }
    expect(refusedWhileStreaming).toBe(true);

    const results = await Promise.all(streams.map((s) => s.done));
    for (const result of results) {
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(200);
      expect(result.body.equals(encodeSse(events))).toBe(true); // the whole stream, message_stop included
    }
    expect(await server.exit).toBe(0);
    expect(server.output()).toContain('shutdown complete');
    await dispatcher.close();

    const rows = await usageRows(dataDir, userId);
    expect(rows).toHaveLength(20);
    for (const row of rows) expect(row).toMatchObject({ outcome: 'completed', statusCode: 200, stream: true });
    // The last metrics interval was flushed on the way out.
    const docs = emfDocuments(server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>));
    expect(emfSum(docs, METRICS.RequestCount)).toBe(20);
    expect(emfSum(docs, METRICS.ErrorCount)).toBe(0);
  });

  it('tells streams still running at the drain deadline with an Anthropic error event, stops their upstream calls, records them, exits 0', { timeout: 90_000 }, async () => {
    const server = await startServer(dataDir, { PLAN_API_URL: fake.url, SHUTDOWN_DRAIN_SECONDS: '2', SHUTDOWN_DELAY_SECONDS: '0' });
    const { rawKey, userId } = await issueKey(server.url);
    const endless = messageToEvents(textMessage({ text: 'x'.repeat(400) }), { textChunks: 200 });
    const firstUpstream = fake.requests.length;
    fake.reply({ kind: 'stream', events: endless, delayMs: 100 }, { kind: 'stream', events: endless, delayMs: 100 }, { kind: 'hang' });
    const dispatcher = new Agent({ connections: 10 });
    const streams = [openStream(server.url, rawKey, dispatcher), openStream(server.url, rawKey, dispatcher)];
    await Promise.all(streams.map((s) => s.started));
    const waiting = openStream(server.url, rawKey, dispatcher, false); // Anthropic never answers this one
    while (fake.requests.length < firstUpstream + 3) await new Promise((r) => setTimeout(r, 20));

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const [a, b] = await Promise.all(streams.map((s) => s.done));
    const hung = await waiting.done;
    const elapsed = Date.now() - signalledAt;
    expect(elapsed).toBeGreaterThanOrEqual(1_000); // not before the deadline (2 s less the 0.5 s flush reserve)
    expect(elapsed).toBeLessThan(15_000);
    for (const stream of [a!, b!]) {
      expect(stream.error).toBeUndefined(); // ended cleanly, not cut
      const text = stream.body.toString();
      expect(text.startsWith('event: message_start')).toBe(true);
      expect(text).not.toContain('message_stop');
      expect(text.endsWith('\n\n')).toBe(true);
      const last = text.trimEnd().split('\n\n').at(-1)!;
      expect(last).toMatch(/^event: error\ndata: /);
      expect(JSON.parse(last.split('data: ')[1]!)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    }
    expect(hung.status).toBe(529);
    expect(JSON.parse(hung.body.toString())).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    // The upstream calls were cancelled, not left open.
    for (let i = firstUpstream; i < firstUpstream + 3; i++) await fake.requestClosed(i);

    expect(await server.exit).toBe(0);
    await dispatcher.close();
    const rows = await usageRows(dataDir, userId);
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r.stream).map((r) => [r.outcome, r.statusCode])).toEqual([
      ['failed', 200],
      ['failed', 200],
    ]);
    expect(rows.find((r) => !r.stream)).toMatchObject({ outcome: 'failed', statusCode: 529 });
    const docs = emfDocuments(server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>));
    expect(emfSum(docs, METRICS.ErrorCount)).toBe(3);
  });

  it('exits at once on a second SIGTERM', { timeout: 60_000 }, async () => {
    const server = await startServer(dataDir, { PLAN_API_URL: fake.url, SHUTDOWN_DRAIN_SECONDS: '60', SHUTDOWN_DELAY_SECONDS: '0' });
    const { rawKey } = await issueKey(server.url);
    fake.reply({ kind: 'stream', events: messageToEvents(textMessage({ text: 'y'.repeat(200) }), { textChunks: 100 }), delayMs: 200 });
    const dispatcher = new Agent();
    const stream = openStream(server.url, rawKey, dispatcher);
    await stream.started;
    server.child.kill('SIGTERM');
    await shuttingDown(server);
    const second = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exit).not.toBe(0);
    expect(Date.now() - second).toBeLessThan(3_000);
    expect(server.output()).toContain('second signal');
    expect((await stream.done).error).toBeDefined(); // the stream was cut: that is what a second signal asks for
    await dispatcher.close();
  });
});
