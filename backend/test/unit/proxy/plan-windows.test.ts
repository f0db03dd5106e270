import { describe, expect, it } from 'vitest';
import type { UnifiedLimits } from '../../../src/anthropic/unified-limits.ts';
import type { PlanPolicy } from '../../../src/proxy/plan-window-policy.ts';
import { createPlanWindows, type PlanWindowEntry } from '../../../src/proxy/plan-windows.ts';

const T0 = 1_780_000_000_000;
const RESET = 1_780_001_000; // Unix seconds: T0 + 1000 s
const policy: PlanPolicy = { threshold: 0.9, overage: 'stay' };
const key = { accessKeyId: 'k1', userId: 'u1' };
const MODEL = 'claude-sonnet-4-5-20250929';

function reading(utilization: number): UnifiedLimits {
  return { status: 'allowed', claim: null, resetsAt: null, windows: { five_hour: { utilization, resetsAt: RESET, surpassedThreshold: null } }, overageStatus: null, fallback: null };
}

function setup() {
  let t = T0;
  const windows = createPlanWindows({ now: () => t });
  return { windows, setNow: (ms: number) => (t = ms) };
}

describe('plan windows', () => {
  it('parks a key by its observed reading under the policy', () => {
    const { windows } = setup();
    expect(windows.park('k1', policy, MODEL)).toBeNull();
    windows.observe(key, reading(0.95));
    expect(windows.park('k1', policy, MODEL)).toEqual({ reason: 'plan_threshold', window: 'five_hour', until: RESET * 1000 });
    expect(windows.park('k1', { threshold: 0.96, overage: 'stay' }, MODEL)).toBeNull();
    expect(windows.park('other', policy, MODEL)).toBeNull();
    expect(windows.get('k1')).toEqual({ accessKeyId: 'k1', userId: 'u1', observedAt: T0, limits: reading(0.95) });
  });

  it('an older observation does not replace a newer one', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.95), T0);
    windows.observe(key, reading(0.1), T0 - 1);
    expect(windows.get('k1')?.limits).toEqual(reading(0.95));
    windows.observe(key, reading(0.2), T0 + 1);
    expect(windows.get('k1')).toMatchObject({ observedAt: T0 + 1, limits: reading(0.2) });
  });

  it('merge keeps the newer reading', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.5), T0);
    windows.merge({ ...key, observedAt: T0 - 1, limits: reading(0.99) });
    expect(windows.get('k1')?.limits).toEqual(reading(0.5));
    const newer: PlanWindowEntry = { ...key, observedAt: T0 + 1, limits: reading(0.99) };
    windows.merge(newer);
    expect(windows.get('k1')).toBe(newer);
    windows.merge({ accessKeyId: 'k2', userId: 'u2', observedAt: T0, limits: reading(0.3) });
    expect(windows.list().map((e) => e.accessKeyId)).toEqual(['k1', 'k2']);
  });

  it('a merged reading is not taken as changed (it is already stored)', () => {
    const { windows } = setup();
    windows.merge({ ...key, observedAt: T0, limits: reading(0.5) });
    expect(windows.takeChanged()).toEqual([]);
  });

  it('forget removes the entry and its pending change', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.95));
    windows.forget('k1');
    expect(windows.get('k1')).toBeUndefined();
    expect(windows.park('k1', policy, MODEL)).toBeNull();
    expect(windows.list()).toEqual([]);
    expect(windows.takeChanged()).toEqual([]);
  });

  it('takeChanged returns each observed key once, then nothing', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.1), T0);
    windows.observe(key, reading(0.2), T0 + 1);
    windows.observe({ accessKeyId: 'k2', userId: 'u2' }, reading(0.3), T0);
    const taken = windows.takeChanged();
    expect(taken.map((e) => [e.accessKeyId, e.limits.windows.five_hour?.utilization])).toEqual([
      ['k1', 0.2],
      ['k2', 0.3],
    ]);
    expect(windows.takeChanged()).toEqual([]);
  });

  it('retry puts an entry back unless a newer observation replaced it', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.1), T0);
    windows.observe({ accessKeyId: 'k2', userId: 'u2' }, reading(0.3), T0);
    const failed = windows.takeChanged();
    windows.observe(key, reading(0.2), T0 + 1);
    expect(windows.takeChanged().map((e) => e.accessKeyId)).toEqual(['k1']);
    windows.retry(failed);
    expect(windows.takeChanged()).toEqual([failed[1]]);
  });

  it('retry does not bring back a forgotten key', () => {
    const { windows } = setup();
    windows.observe(key, reading(0.1));
    const failed = windows.takeChanged();
    windows.forget('k1');
    windows.retry(failed);
    expect(windows.takeChanged()).toEqual([]);
  });

  it('park ends once the clock passes the reset', () => {
    const { windows, setNow } = setup();
    windows.observe(key, reading(0.95));
    setNow(RESET * 1000 - 1);
    expect(windows.park('k1', policy, MODEL)).not.toBeNull();
    setNow(RESET * 1000);
    expect(windows.park('k1', policy, MODEL)).toBeNull();
  });
});
