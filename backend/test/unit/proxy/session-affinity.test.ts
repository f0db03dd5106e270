import { describe, expect, it } from 'vitest';
import { createSessionAffinity } from '../../../src/proxy/session-affinity.ts';

function setup(options: { warmMs?: number; maxSessions?: number } = {}) {
  let t = 1_000_000;
  const affinity = createSessionAffinity({ warmMs: options.warmMs ?? 300_000, maxSessions: options.maxSessions, now: () => t });
  return { affinity, advance: (ms: number) => (t += ms) };
}

describe('session affinity', () => {
  it('an unknown session is not warm', () => {
    const { affinity } = setup();
    expect(affinity.warmOnBedrock('s')).toBe(false);
  });

  it('a session served by Bedrock stays warm until warmMs passes', () => {
    const { affinity, advance } = setup();
    affinity.served('s', 'bedrock');
    expect(affinity.warmOnBedrock('s')).toBe(true);
    expect(affinity.warmOnBedrock('other')).toBe(false);
    advance(299_999);
    expect(affinity.warmOnBedrock('s')).toBe(true);
    advance(1);
    expect(affinity.warmOnBedrock('s')).toBe(false);
  });

  it('a later Bedrock turn re-warms the session', () => {
    const { affinity, advance } = setup();
    affinity.served('s', 'bedrock');
    advance(200_000);
    affinity.served('s', 'bedrock');
    advance(200_000);
    expect(affinity.warmOnBedrock('s')).toBe(true);
  });

  it('a session last served by the Plan is not warm on Bedrock', () => {
    const { affinity } = setup();
    affinity.served('s', 'bedrock');
    affinity.served('s', 'plan');
    expect(affinity.warmOnBedrock('s')).toBe(false);
  });

  it('served is true only when the provider differs from the previous turn', () => {
    const { affinity } = setup();
    expect(affinity.served('s', 'plan')).toBe(false);
    expect(affinity.served('s', 'plan')).toBe(false);
    expect(affinity.served('s', 'bedrock')).toBe(true);
    expect(affinity.served('s', 'bedrock')).toBe(false);
    expect(affinity.served('s', 'plan')).toBe(true);
    expect(affinity.served('new', 'bedrock')).toBe(false);
  });

  it('an undefined or empty session id is never warm', () => {
    const { affinity } = setup();
    affinity.served('', 'bedrock');
    expect(affinity.warmOnBedrock(undefined)).toBe(false);
    expect(affinity.warmOnBedrock('')).toBe(false);
  });

  it('warmMs 0 is never warm', () => {
    const { affinity } = setup({ warmMs: 0 });
    affinity.served('s', 'bedrock');
    expect(affinity.warmOnBedrock('s')).toBe(false);
  });

  it('maxSessions evicts the least recently served session', () => {
    const { affinity } = setup({ maxSessions: 2 });
    affinity.served('a', 'bedrock');
    affinity.served('b', 'bedrock');
    affinity.served('a', 'bedrock'); // a is now the most recent
    affinity.served('c', 'bedrock'); // evicts b
    expect(affinity.warmOnBedrock('a')).toBe(true);
    expect(affinity.warmOnBedrock('b')).toBe(false);
    expect(affinity.warmOnBedrock('c')).toBe(true);
    expect(affinity.served('b', 'plan')).toBe(false); // forgotten: no previous turn
  });
});
