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
    expect(affinity.warmOnBedrock('k', 's')).toBe(false);
  });

  it('a session served by Bedrock stays warm until warmMs passes', () => {
    const { affinity, advance } = setup();
    affinity.served('k', 's', 'bedrock');
    expect(affinity.warmOnBedrock('k', 's')).toBe(true);
    expect(affinity.warmOnBedrock('k', 'other')).toBe(false);
    advance(299_999);
    expect(affinity.warmOnBedrock('k', 's')).toBe(true);
    advance(1);
    expect(affinity.warmOnBedrock('k', 's')).toBe(false);
  });

  it('a later Bedrock turn re-warms the session', () => {
    const { affinity, advance } = setup();
    affinity.served('k', 's', 'bedrock');
    advance(200_000);
    affinity.served('k', 's', 'bedrock');
    advance(200_000);
    expect(affinity.warmOnBedrock('k', 's')).toBe(true);
  });

  it('a session last served by the Plan is not warm on Bedrock', () => {
    const { affinity } = setup();
    affinity.served('k', 's', 'bedrock');
    affinity.served('k', 's', 'plan');
    expect(affinity.warmOnBedrock('k', 's')).toBe(false);
  });

  it('served is true only when the provider differs from the previous turn', () => {
    const { affinity } = setup();
    expect(affinity.served('k', 's', 'plan')).toBe(false);
    expect(affinity.served('k', 's', 'plan')).toBe(false);
    expect(affinity.served('k', 's', 'bedrock')).toBe(true);
    expect(affinity.served('k', 's', 'bedrock')).toBe(false);
    expect(affinity.served('k', 's', 'plan')).toBe(true);
    expect(affinity.served('k', 'new', 'bedrock')).toBe(false);
  });

  it('an undefined or empty session id is never warm', () => {
    const { affinity } = setup();
    affinity.served('k', '', 'bedrock');
    expect(affinity.warmOnBedrock('k', undefined)).toBe(false);
    expect(affinity.warmOnBedrock('k', '')).toBe(false);
  });

  it('warmMs 0 is never warm', () => {
    const { affinity } = setup({ warmMs: 0 });
    affinity.served('k', 's', 'bedrock');
    expect(affinity.warmOnBedrock('k', 's')).toBe(false);
  });

  it("sessions are per access key: another key naming the same session id is another session", () => {
    const { affinity } = setup();
    affinity.served('k', 's', 'bedrock');
    expect(affinity.warmOnBedrock('other-key', 's')).toBe(false);
    expect(affinity.served('other-key', 's', 'plan')).toBe(false);
    expect(affinity.warmOnBedrock('k', 's')).toBe(true);
  });

  it('maxSessions evicts the least recently served session', () => {
    const { affinity } = setup({ maxSessions: 2 });
    affinity.served('k', 'a', 'bedrock');
    affinity.served('k', 'b', 'bedrock');
    affinity.served('k', 'a', 'bedrock'); // a is now the most recent
    affinity.served('k', 'c', 'bedrock'); // evicts b
    expect(affinity.warmOnBedrock('k', 'a')).toBe(true);
    expect(affinity.warmOnBedrock('k', 'b')).toBe(false);
    expect(affinity.warmOnBedrock('k', 'c')).toBe(true);
    expect(affinity.served('k', 'b', 'plan')).toBe(false); // forgotten: no previous turn
  });
});
