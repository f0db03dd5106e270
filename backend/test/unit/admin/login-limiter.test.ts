import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from '../../../src/admin/login-limiter.ts';

function limiter() {
  let t = 1_000_000;
  const l = createLoginLimiter({ maxFailures: 5, windowMs: 60_000, maxEntries: 4, now: () => t });
  return { l, advance: (ms: number) => (t += ms) };
}

describe('login limiter', () => {
  it('refuses the sixth attempt within a minute of five failures, until the oldest leaves the window', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 5; i++) {
      expect(l.retryAfter('1.1.1.1', 'admin')).toBe(0);
      l.failed('1.1.1.1', 'admin');
      advance(1_000);
    }
    // Failures at 0..4 s; now 5 s: the first leaves the window at 60 s.
    expect(l.retryAfter('1.1.1.1', 'admin')).toBe(55);
    advance(54_999);
    expect(l.retryAfter('1.1.1.1', 'admin')).toBe(1);
    advance(1);
    expect(l.retryAfter('1.1.1.1', 'admin')).toBe(0);
  });

  it('counts per address and per username (case-insensitive) separately', () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) l.failed('1.1.1.1', `user-${i}`);
    expect(l.retryAfter('1.1.1.1', 'someone')).toBeGreaterThan(0);
    expect(l.retryAfter('2.2.2.2', 'someone')).toBe(0);
    for (let i = 0; i < 5; i++) l.failed(`3.3.3.${i}`, i % 2 ? 'Admin' : ' admin ');
    expect(l.retryAfter('4.4.4.4', 'ADMIN')).toBeGreaterThan(0);
  });

  it('forgets the failures of a login that succeeded', () => {
    const { l } = limiter();
    for (let i = 0; i < 4; i++) l.failed('1.1.1.1', 'admin');
    l.succeeded('1.1.1.1', 'admin');
    for (let i = 0; i < 4; i++) l.failed('1.1.1.1', 'admin');
    expect(l.retryAfter('1.1.1.1', 'admin')).toBe(0);
  });

  it('keeps memory bounded, dropping the least recently failed first', () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) l.failed('1.1.1.1', 'admin');
    expect(l.retryAfter('9.9.9.9', 'admin')).toBeGreaterThan(0);
    // Four other keys (two per failure) push the old ones out of a four-entry memory.
    l.failed('5.5.5.5', 'x');
    l.failed('6.6.6.6', 'y');
    expect(l.retryAfter('9.9.9.9', 'admin')).toBe(0);
  });
});
