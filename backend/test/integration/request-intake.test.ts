import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// Nobody without a key can make the proxy hold memory, and no slow client can hold its
// connections: unknown keys are answered before their bodies are read, and bodies of known keys
// are bounded per key and in rate (README, "Restarts and bounds").

const MB = 1024 * 1024;
const unknownKey = () => `ak_${randomBytes(32).toString('base64url')}`;

let anthropic: FakeAnthropic;
let proxy: TestApp;
let key: { rawKey: string };

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BODY_RATE_GRACE: '2', BODY_MIN_RATE: '16' });
  key = await proxy.createKey();
});
afterAll(async () => {
  await proxy?.close();
  await anthropic?.close();
});

/** Sends `body` with its length declared; the status the server answered, or the error that cut the send. */
function sendBody(path: string, body: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    req.end(body);
  });
}

async function validTurn(): Promise<number> {
  const res = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-dev' },
    body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.dump();
  return res.statusCode;
}

async function healthMs(): Promise<number> {
  const started = performance.now();
  const res = await request(`${proxy.url}/health`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  await res.body.dump();
  expect(res.statusCode).toBe(200);
  return performance.now() - started;
}

describe('request intake', () => {
  it('refuses an address past 300 unknown keys a minute without looking them up, while keys already known still work from it', async () => {
    const from = (address: string, rawKey: string) =>
      request(`${proxy.url}/ak/${rawKey}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-dev', 'x-forwarded-for': address },
        body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (res) => ({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: (await res.body.json()) as { error: { type: string } } }));
    const known = await proxy.createKey();
    expect((await from('198.51.100.7', known.rawKey)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 301; i++) statuses.push((await from('198.51.100.7', unknownKey())).status);
    expect(statuses.slice(0, 300).every((s) => s === 401)).toBe(true);
    const limited = await from('198.51.100.7', unknownKey());
    expect(limited).toMatchObject({ status: 429, body: { error: { type: 'rate_limit_error' } } });
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect((await from('198.51.100.7', known.rawKey)).status).toBe(200);
    expect((await from('198.51.100.8', unknownKey())).status).toBe(401);
  });

  it('makes an address past 300 bad admin tokens a minute wait, while a valid session still works from it', async () => {
    const users = (address: string, token: string) =>
      request(`${proxy.url}/admin/users`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } }).then(async (res) => {
        await res.body.dump();
        return res.statusCode;
      });
    const statuses: number[] = [];
    for (let i = 0; i < 301; i++) statuses.push(await users('203.0.113.9', `not-a-token-${i}`));
    expect(statuses.slice(0, 300).every((s) => s === 401)).toBe(true);
    expect(statuses[300]).toBe(429);
    expect(await users('203.0.113.9', await proxy.adminToken())).toBe(200);
    expect(await users('203.0.113.10', 'not-a-token')).toBe(401);
  });

  it('answers 60 parallel 31 MB bodies with unknown keys without buffering them, and keeps serving', async () => {
    for (let i = 0; i < 5; i++) expect(await validTurn()).toBe(200);
    const idle = process.memoryUsage().rss;
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const body = Buffer.alloc(31 * MB, 'a'); // one buffer, sent 60 times: the client holds it once
    const floods = Promise.all(Array.from({ length: 60 }, () => sendBody(`/ak/${unknownKey()}/v1/messages`, body)));
    const during: number[] = [];
    for (let i = 0; i < 10; i++) during.push(await validTurn());
    const answers = await floods;
    clearInterval(sampler);
    // Each got its 401, or was cut while still sending after it: never anything else.
    for (const a of answers) expect([401, 'EPIPE', 'ECONNRESET']).toContain(a);
    expect(answers.filter((a) => a === 401).length).toBeGreaterThan(0);
    expect(during).toEqual(Array.from({ length: 10 }, () => 200));
    // This process is the server and the clients; the bodies alone would be 1,860 MB.
    if (process.env.INTAKE_FIGURES) console.info(`rss idle ${Math.round(idle / MB)} MB, peak +${Math.round((peak - idle) / MB)} MB`);
    expect(peak - idle).toBeLessThan(100 * MB);
  });

  it('closes 20,000 slow-body connections, with or without a key, while /health keeps answering', async () => {
    const keys = [key, await proxy.createKey(), await proxy.createKey(), await proxy.createKey()];
    const WAVE = 2_000;
    const slowest: number[] = [];
    let closedByServer = 0;
    let answered = 0;
    /** Opens a connection that declares 1 MB and sends a byte a second until the server ends it. */
    const slowBody = (path: string) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(Number(new URL(proxy.url).port), '127.0.0.1');
        let drip: NodeJS.Timeout | undefined;
        socket.on('connect', () => {
          socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${MB}\r\n\r\n{`);
          drip = setInterval(() => socket.write('a'), 1_000);
        });
        socket.on('data', () => void (answered += 1));
        socket.on('error', () => {});
        socket.on('close', () => {
          clearInterval(drip);
          closedByServer++;
          resolve();
        });
      });
    for (let wave = 0; wave < 20_000 / WAVE; wave++) {
      const health = setInterval(() => void healthMs().then((ms) => slowest.push(ms)), 100);
      await Promise.all(
        Array.from({ length: WAVE }, (_, i) => slowBody(i % 2 ? `/ak/${unknownKey()}/v1/messages` : `/ak/${keys[i % keys.length]!.rawKey}/v1/messages`)),
      );
      clearInterval(health);
    }
    expect(closedByServer).toBe(20_000);
    // Every connection got an answer before it was closed: 401, 429 (too many uploads for its key) or 408 (too slow).
    expect(answered).toBeGreaterThanOrEqual(20_000);
    expect(slowest.length).toBeGreaterThan(10);
    if (process.env.INTAKE_FIGURES) console.info(`health checks ${slowest.length}, slowest ${Math.round(Math.max(...slowest))} ms`);
    expect(Math.max(...slowest)).toBeLessThan(1_000);
    expect(await validTurn()).toBe(200);
  }, 240_000);
});
