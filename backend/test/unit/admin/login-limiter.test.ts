import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from '../../../src/admin/login-limiter.ts';
import type { LoginAttemptCounter, LoginAttemptRepository } from '../../../src/db/login-attempt-repository.ts';

/** The repository's contract in memory (its SQL runs in test/integration/login-limit.test.ts). */
function memoryAttempts() {
  const rows = new Map<string, number[]>();
  let sweeps = 0;
  const repository: LoginAttemptRepository = {
    async reserve(counters: readonly LoginAttemptCounter[], windowMs: number, now = new Date()) {
      const t = now.getTime();
      const waits = new Map<string, number>();
      for (const { key, limit } of counters) {
        const recent = (rows.get(key) ?? []).filter((at) => at > t - windowMs);
        const admitted = recent.length < limit;
        if (admitted) recent.push(t);
        rows.set(key, recent);
        waits.set(key, admitted ? 0 : recent[recent.length - limit]! + windowMs - t);
      }
      return waits;
    },
    async clear(keys) {
      for (const key of keys) rows.delete(key);
    },
    async sweep() {
      sweeps++;
      return 0;
    },
  };
  return { repository, rows, sweeps: () => sweeps };
}

function limiter() {
  let t = 1_000_000;
  const attempts = memoryAttempts();
  const l = createLoginLimiter({ attempts: attempts.repository, perPair: 5, perAddress: 20, windowMs: 60_000, now: () => t });
  return { l, attempts, advance: (ms: number) => (t += ms) };
}

describe('login limiter', () => {
  it('admits five attempts per address and username, the sixth waits until the oldest leaves the window', async () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 5; i++) {
      expect(await l.reserve('1.1.1.1', 'admin')).toBe(0);
      advance(1_000);
    }
    // Attempts at 0..4 s; now 5 s: the first leaves the window at 60 s.
    expect(await l.reserve('1.1.1.1', 'admin')).toBe(55);
    advance(54_999);
    expect(await l.reserve('1.1.1.1', 'admin')).toBe(1);
    advance(1);
    expect(await l.reserve('1.1.1.1', 'admin')).toBe(0);
  });

  it('keeps a locked username open from another address (case and spaces do not make a new one)', async () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) await l.reserve('1.1.1.1', i % 2 ? 'Admin' : ' admin ');
    expect(await l.reserve('1.1.1.1', 'ADMIN')).toBeGreaterThan(0);
    expect(await l.reserve('2.2.2.2', 'admin')).toBe(0);
    expect(await l.reserve('1.1.1.1', 'someone-else')).toBe(0);
  });

  it('caps one address at 20 attempts a window across usernames', async () => {
    const { l } = limiter();
    for (let i = 0; i < 20; i++) expect(await l.reserve('1.1.1.1', `user-${i}`)).toBe(0);
    expect(await l.reserve('1.1.1.1', 'user-new')).toBeGreaterThan(0);
    expect(await l.reserve('2.2.2.2', 'user-new')).toBe(0);
  });

  it('clears the pair counter on a correct password', async () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) await l.reserve('1.1.1.1', 'admin');
    await l.succeeded('1.1.1.1', 'admin');
    expect(await l.reserve('1.1.1.1', 'admin')).toBe(0);
  });

  it('stores hashes, not addresses or usernames, and sweeps old counters at most once a window', async () => {
    const { l, attempts, advance } = limiter();
    await l.reserve('1.1.1.1', 'hunter2-typed-as-username');
    expect([...attempts.rows.keys()].join()).not.toMatch(/1\.1\.1\.1|hunter2/);
    expect(attempts.sweeps()).toBe(0);
    advance(60_000);
    await l.reserve('1.1.1.1', 'admin');
    await l.reserve('1.1.1.1', 'admin');
    expect(attempts.sweeps()).toBe(1);
  });
});
