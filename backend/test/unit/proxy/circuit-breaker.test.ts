import { describe, expect, it } from 'vitest';
import { createCircuitBreakers, type CircuitBreakers } from '../../../src/proxy/circuit-breaker.ts';

function setup() {
  let t = 0;
  const breakers = createCircuitBreakers({ threshold: 3, windowMs: 60_000, resetMs: 1_800_000, now: () => t });
  return { breakers, advance: (ms: number) => (t += ms) };
}

describe('circuit breaker', () => {
  it('opens after the threshold of failures inside the window, and skips Anthropic while open', () => {
    const { breakers, advance } = setup();
    breakers.failure('k', 'rate_limited');
    advance(10_000);
    breakers.failure('k', 'overloaded');
    expect(breakers.decide('k')).toBe('try');
    breakers.failure('k', 'server_error');
    expect(breakers.decide('k')).toBe('skip');
    expect(breakers.snapshot('k')).toMatchObject({ state: 'open', reason: 'server_error' });
    expect(breakers.decide('other-key')).toBe('try');
  });

  it('forgets failures older than the window', () => {
    const { breakers, advance } = setup();
    breakers.failure('k', 'rate_limited');
    breakers.failure('k', 'rate_limited');
    advance(60_001);
    breakers.failure('k', 'rate_limited');
    expect(breakers.decide('k')).toBe('try');
    expect(breakers.snapshot('k').failures).toBe(1);
  });

  it('a success while closed clears the count', () => {
    const { breakers } = setup();
    breakers.failure('k', 'x');
    breakers.failure('k', 'x');
    breakers.success('k');
    breakers.failure('k', 'x');
    expect(breakers.decide('k')).toBe('try');
  });

  it('after the reset timeout lets exactly one probe through; its success closes the breaker', () => {
    const { breakers, advance } = setup();
    openIt(breakers);
    advance(1_800_000);
    expect(breakers.snapshot('k').state).toBe('half_open');
    expect(breakers.decide('k')).toBe('probe');
    expect(breakers.decide('k')).toBe('skip'); // others keep going to Bedrock while the probe runs
    breakers.success('k');
    expect(breakers.decide('k')).toBe('try');
    expect(breakers.snapshot('k').state).toBe('closed');
  });

  it("a failed probe re-opens it for another full period", () => {
    const { breakers, advance } = setup();
    openIt(breakers);
    advance(1_800_000);
    expect(breakers.decide('k')).toBe('probe');
    breakers.failure('k', 'rate_limited');
    expect(breakers.decide('k')).toBe('skip');
    advance(1_799_999);
    expect(breakers.decide('k')).toBe('skip');
    advance(1);
    expect(breakers.decide('k')).toBe('probe');
  });

  it('a probe that ended without a verdict lets the next request probe', () => {
    const { breakers, advance } = setup();
    openIt(breakers);
    advance(1_800_000);
    expect(breakers.decide('k')).toBe('probe');
    breakers.release('k');
    expect(breakers.decide('k')).toBe('probe');
  });

  it('can be reset by an admin and listed', () => {
    const { breakers } = setup();
    openIt(breakers, 'a');
    breakers.failure('b', 'x');
    expect(breakers.list().map((s) => [s.accessKeyId, s.state])).toEqual([['a', 'open'], ['b', 'closed']]);
    breakers.reset('a');
    expect(breakers.decide('a')).toBe('try');
  });
});

/** Enough counted failures to open a key's breaker (the threshold these tests use). */
function openIt(breakers: CircuitBreakers, id = 'k'): void {
  for (let i = 0; i < 3; i++) breakers.failure(id, 'rate_limited');
}
