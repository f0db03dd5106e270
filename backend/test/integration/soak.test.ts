// Issue 6: memory that stays flat over a long run of streams, and no upstream connection left open.
// A few thousand streamed requests through the real server process, some of them abandoned by their
// client mid-stream or before the answer starts. Bigger runs: SOAK_REQUESTS=20000 (and SOAK_CONCURRENCY).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { count, eq } from 'drizzle-orm';
import { Agent, request, WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { encodeSse, messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { testDatabaseKind } from '../support/db.ts';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16);
const WARM_UP = Math.round(REQUESTS * 0.3);
const main = path.join(import.meta.dirname, '../../src/main.ts');
const ADMIN = { username: 'ops', password: 'soak-test-password' };

/** A minimal Anthropic for load: every POST streams the same message, paced; it counts its sockets. */
async function startStreamingUpstream(): Promise<{ url: string; openSockets: () => number; inFlight: () => number; served: () => number; close: () => Promise<void> }> {
  const events = encodeSse(messageToEvents(textMessage({ text: 'a soak test answer in a dozen parts, more or less, each small' }), { textChunks: 12 }))
    .toString()
    .split(/(?<=\n\n)/);
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let served = 0;
  const server: HttpServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      inFlight++;
      served++;
      let done = false;
      const finish = () => {
        if (!done) inFlight--;
        done = true;
      };
      res.on('close', finish);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': `req_soak_${served}` });
      let i = 0;
      const next = () => {
        if (res.destroyed) return finish();
        if (i === events.length) return res.end();
        res.write(events[i++]);
        // Two short pauses per stream, so a client that leaves after the first chunk leaves mid-stream.
        if (i === 2 || i === events.length - 2) setTimeout(next, 5);
        else setImmediate(next);
      };
      next();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    openSockets: () => sockets.size,
    inFlight: () => inFlight,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resident set size of a process, in bytes. */
function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  } catch {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) * 1024;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The server's V8 inspector (the process runs with --inspect on a random port): a full garbage
 * collection on request, so memory is compared between two settled heaps, not two random points
 * of V8's lazy heap growth.
 */
async function connectInspector(wsUrl: string): Promise<{ collectGarbage(): Promise<void>; heapUsed(): Promise<number>; close(): void }> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${wsUrl}`)));
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener('message', (event) => {
    const reply = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) pending.get(reply.id)?.(reply.result);
  });
  const call = (method: string) =>
    new Promise<unknown>((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
    },
    heapUsed: async () => ((await call('Runtime.getHeapUsage')) as { usedSize: number }).usedSize,
    close: () => ws.close(),
  };
}

let upstream: Awaited<ReturnType<typeof startStreamingUpstream>>;
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  upstream = await startStreamingUpstream();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-soak-'));
  // Created and migrated here, not by the server: PGlite's initdb grows its WebAssembly memory by
  // hundreds of MB, for good, which would swamp the proxy's own memory in the server's RSS.
  const database = await openDatabase({ kind: 'pglite', dataDir });
  await migrate(database);
  await database.close();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await upstream.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(testDatabaseKind() === 'postgres')('soak', () => {
  it(`${REQUESTS} streams with client aborts: memory stays flat, no upstream connection is left open, every request is recorded`, { timeout: 240_000 }, async () => {
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '--import', 'tsx', main], {
      env: {
        PATH: process.env.PATH,
        AWS_EC2_METADATA_DISABLED: 'true',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_CREDENTIALS: JSON.stringify(ADMIN),
        PLAN_API_URL: upstream.url,
        SHUTDOWN_DELAY_SECONDS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    let output = '';
    const exit = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const inspectorUrl = new Promise<string>((resolve) => {
      child!.stderr!.on('data', (c: Buffer) => {
        output += c.toString();
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(output);
        if (m) resolve(m[1]!);
      });
    });
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) resolve(m[1]!);
      });
      void exit.then(() => reject(new Error(`server exited before listening:\n${output}`)));
    });

    const json = { 'content-type': 'application/json' };
    const login = await request(`${url}/admin/auth/login`, { method: 'POST', headers: json, body: JSON.stringify(ADMIN) });
    const auth = { ...json, authorization: `Bearer ${((await login.body.json()) as { access_token: string }).access_token}` };
    const user = (await (await request(`${url}/admin/users`, { method: 'POST', headers: auth, body: '{"name":"soak"}' })).body.json()) as { id: string };
    const { raw_key: rawKey } = (await (await request(`${url}/admin/users/${user.id}/access-keys`, { method: 'POST', headers: auth, body: '{}' })).body.json()) as { raw_key: string };

    const inspector = await connectInspector(await inspectorUrl);
    const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
    const body = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'soak' }] });
    let next = 0;
    let completed = 0;
    let abandoned = 0;
    let abandonedMidStream = 0;

    /** Request i: most read to the end; every 7th is abandoned after its first chunk, every 11th at once. */
    async function one(i: number): Promise<void> {
      const controller = new AbortController();
      const early = i % 11 === 5;
      if (early) setTimeout(() => controller.abort(), 1);
      try {
        const res = await request(`${url}/ak/${rawKey}/v1/messages`, { method: 'POST', headers: json, body, dispatcher, signal: controller.signal });
        let chunks = 0;
        for await (const _chunk of res.body) {
          if (++chunks === 1 && i % 7 === 3 && !early) {
            abandonedMidStream++;
            controller.abort();
            break;
          }
        }
        if (controller.signal.aborted) abandoned++;
        else completed++;
      } catch {
        abandoned++;
      }
    }
    /** Runs requests [from, to) with CONCURRENCY clients. */
    async function run(to: number): Promise<void> {
      const worker = async () => {
        while (next < to) await one(next++);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    }
    /** The server's memory at rest: usage written, a full collection done; RSS as the median of a few readings. */
    async function settled(): Promise<{ rss: number; heap: number }> {
      await new Promise((r) => setTimeout(r, 1_500)); // the usage recorder writes its queue every second
      await inspector.collectGarbage();
      const readings: number[] = [];
      for (let i = 0; i < 5; i++, await new Promise((r) => setTimeout(r, 100))) readings.push(rssOf(child!.pid!));
      return { rss: median(readings), heap: await inspector.heapUsed() };
    }

    const startedAt = performance.now();
    await run(WARM_UP);
    const warm = await settled();
    await run(REQUESTS);
    const seconds = (performance.now() - startedAt) / 1000;
    const end = await settled();
    expect(completed + abandoned).toBe(REQUESTS);
    expect(abandoned).toBeGreaterThan(REQUESTS / 10);

    // Memory: flat after warm-up.
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const growth = end.rss / warm.rss - 1;
    console.log(
      `soak: ${REQUESTS} requests in ${seconds.toFixed(1)} s (${CONCURRENCY} at a time), ${abandoned} abandoned by their client; ` +
        `server RSS after ${WARM_UP} requests of warm-up ${mib(warm.rss)}, at the end ${mib(end.rss)} (${(growth * 100).toFixed(1)} %); ` +
        `live JS heap ${mib(warm.heap)} → ${mib(end.heap)}`,
    );
    expect(growth).toBeLessThan(0.1);
    inspector.close();

    // Upstream: every exchange ended (finished, or cancelled when its client left); what remains open
    // is the proxy's pool of idle keep-alive connections, about as many as requests ran at once (a
    // leak would be one per abandoned request).
    const deadline = Date.now() + 10_000;
    while (upstream.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(upstream.inFlight()).toBe(0);
    expect(upstream.served()).toBeLessThanOrEqual(REQUESTS); // never more than one upstream call per request
    expect(upstream.openSockets()).toBeLessThanOrEqual(2 * CONCURRENCY);

    // Shutdown closes them all and stores every request's usage.
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const closedBy = Date.now() + 5_000;
    while (upstream.openSockets() > 0 && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 50));
    expect(upstream.openSockets()).toBe(0);
    await dispatcher.close();

    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const rows = await database.db.select({ outcome: usageEvents.outcome, n: count() }).from(usageEvents).where(eq(usageEvents.userId, user.id)).groupBy(usageEvents.outcome);
      const byOutcome = Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
      const recorded = rows.reduce((a, r) => a + r.n, 0);
      // One row per request that reached the proxy: every one that reached Anthropic, every one read
      // to its end; a client that gave up before its request was even read leaves none.
      expect(recorded).toBeLessThanOrEqual(REQUESTS);
      expect(recorded).toBeGreaterThanOrEqual(upstream.served());
      expect(recorded).toBeGreaterThanOrEqual(completed + abandonedMidStream);
      expect(byOutcome.completed).toBeGreaterThanOrEqual(completed); // a client may give up just after its answer ended
      expect(byOutcome.aborted).toBeGreaterThan(0); // (a client that left just as its answer ended may find it completed)
    } finally {
      await database.close();
    }
  });
});
