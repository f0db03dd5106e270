import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginAttemptRepository } from '../../src/db/login-attempt-repository.ts';
import type { Database } from '../../src/db/client.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind, type TestDatabase } from '../support/db.ts';

// Two tasks on one database, as behind the load balancer.
let first: TestApp;
let second: TestApp;
let peer: Database;

beforeAll(async () => {
  first = await startTestApp();
  peer = await (first.database as TestDatabase).openPeer();
  second = await startTestApp({}, { database: peer });
});
afterAll(async () => {
  await second.close();
  await peer.close();
  await first.close();
});

async function login(app: TestApp, ip: string, password: string, username = 'admin') {
  const res = await request(`${app.url}/admin/auth/login`, {
    method: 'POST',
    // The load balancer's entry: the client address the limit counts (server.ts, trustProxy).
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ username, password }),
  });
  await res.body.text();
  return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
}

describe(`admin login limit across two tasks on ${testDatabaseKind()}`, () => {
  it('checks at most 5 passwords a minute for 600 parallel guesses, and a clean address still logs in meanwhile', async () => {
    const attacker = '198.51.100.66';
    const guesses = Array.from({ length: 600 }, (_, i) => login(i % 2 ? second : first, attacker, `guess-${i}`));
    // The real admin, from an address that has not failed, while the guesses are in flight.
    const admin = login(first, '203.0.113.10', ADMIN_PASSWORD);
    const started = Date.now();
    const answers = await Promise.all(guesses);
    const elapsedMs = Date.now() - started;

    // 401 is a checked (wrong) password; 429 was refused before its password was hashed.
    const checked = answers.filter((a) => a.status === 401).length;
    const refused = answers.filter((a) => a.status === 429);
    expect((await admin).status).toBe(200);
    expect(checked).toBe(5);
    expect(refused).toHaveLength(595);
    for (const { retryAfter } of refused) {
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    }
    const failedLines = [...first.logs, ...second.logs].filter((l) => l.msg === 'admin login failed');
    expect(failedLines).toHaveLength(5);
    // Within the same minute: still refused on either task, even the right password from that address.
    expect(elapsedMs).toBeLessThan(60_000);
    expect((await login(second, attacker, ADMIN_PASSWORD)).status).toBe(429);
    console.info(`login limit: 600 parallel guesses on 2 tasks in ${elapsedMs} ms: ${checked} password checks, ${refused.length} answered 429`);
  });

  it('caps one address at 20 attempts a minute across usernames, on both tasks together', async () => {
    const ip = '198.51.100.77';
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(i % 2 ? second : first, ip, 'wrong', `user-${i}`)));
    expect(answers.filter((a) => a.status === 401)).toHaveLength(20);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(10);
  });
});

describe(`login attempt repository on ${testDatabaseKind()}`, () => {
  it('admits up to the limit per sliding window, says how long to wait, and sweeps what left the window', async () => {
    const attempts = createLoginAttemptRepository(first.database.db);
    const t0 = new Date('2000-01-01T00:00:00Z') // long before the other tests' rows, so the sweeps below touch only these;
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const counters = [{ key: 'test-pair', limit: 2 }, { key: 'test-address', limit: 3 }];
    expect(Object.fromEntries(await attempts.reserve(counters, 60_000, at(0)))).toEqual({ 'test-pair': 0, 'test-address': 0 });
    expect(Object.fromEntries(await attempts.reserve(counters, 60_000, at(10)))).toEqual({ 'test-pair': 0, 'test-address': 0 });
    // The pair is full (room again at 60 s); the address admits its third.
    expect(Object.fromEntries(await attempts.reserve(counters, 60_000, at(20)))).toEqual({ 'test-pair': 40_000, 'test-address': 0 });
    expect(Object.fromEntries(await attempts.reserve(counters, 60_000, at(30)))).toEqual({ 'test-pair': 30_000, 'test-address': 30_000 });
    // The first attempt left the window: one slot again on each.
    expect(Object.fromEntries(await attempts.reserve(counters, 60_000, at(61)))).toEqual({ 'test-pair': 0, 'test-address': 0 });
    await attempts.clear(['test-pair']);
    expect((await attempts.reserve([counters[0]!], 60_000, at(62))).get('test-pair')).toBe(0);
    // expires_at is the newest admitted attempt + the window: 62 s + 60 s for the pair, 61 + 60 for the address.
    expect(await attempts.sweep(at(121))).toBe(1);
    expect(await attempts.sweep(at(122))).toBe(1);
  });

  it('costs one small statement per attempt', async () => {
    const attempts = createLoginAttemptRepository(first.database.db);
    const started = performance.now();
    for (let i = 0; i < 50; i++) await attempts.reserve([{ key: `timing-pair-${i}`, limit: 5 }, { key: 'timing-address', limit: 1000 }], 60_000);
    const perAttemptMs = (performance.now() - started) / 50;
    console.info(`login limit: ${perAttemptMs.toFixed(2)} ms per reservation`);
    expect(perAttemptMs).toBeLessThan(25);
  });
});
