import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UnifiedLimits } from '../../../src/anthropic/unified-limits.ts';
import { startPlanWindowSync, type PlanWindowStore, type PlanWindowSync } from '../../../src/proxy/plan-window-sync.ts';
import { createPlanWindows, type PlanWindowEntry, type PlanWindows } from '../../../src/proxy/plan-windows.ts';

const T0 = 1_780_000_000_000;
type Row = PlanWindowEntry & { updatedAt: Date };

function reading(utilization: number): UnifiedLimits {
  return { status: 'allowed', claim: null, resetsAt: null, windows: { five_hour: { utilization, resetsAt: null, surpassedThreshold: null } }, overageStatus: null, fallback: null };
}

function fakeStore(rows: Row[][] = []) {
  const saved: PlanWindowEntry[][] = [];
  const save = vi.fn(async (entries: readonly PlanWindowEntry[]) => {
    saved.push([...entries]);
  });
  const changedSince = vi.fn(async (_since: Date | null): Promise<Row[]> => rows.shift() ?? []);
  const store: PlanWindowStore = { save, changedSince };
  return { store, save, changedSince, saved };
}

let sync: PlanWindowSync | undefined;
afterEach(async () => {
  await sync?.close();
  sync = undefined;
  vi.useRealTimers();
});

function start(store: PlanWindowStore, windows: PlanWindows = createPlanWindows({ now: () => T0 }), intervalMs = 3_600_000) {
  const logger = pino({ level: 'silent' });
  const warn = vi.spyOn(logger, 'warn');
  sync = startPlanWindowSync({ windows, store, intervalMs, logger });
  return { sync, windows, warn };
}

describe('plan window sync', () => {
  it('flush saves exactly the changed entries once', async () => {
    const { store, save, saved } = fakeStore();
    const { sync, windows } = start(store);
    windows.observe({ accessKeyId: 'k1', userId: 'u1' }, reading(0.5), T0);
    windows.observe({ accessKeyId: 'k2', userId: 'u2' }, reading(0.6), T0);
    windows.merge({ accessKeyId: 'k3', userId: 'u3', observedAt: T0, limits: reading(0.7) }); // from the store: not re-saved
    await sync.flush();
    expect(saved).toEqual([
      [
        { accessKeyId: 'k1', userId: 'u1', observedAt: T0, limits: reading(0.5) },
        { accessKeyId: 'k2', userId: 'u2', observedAt: T0, limits: reading(0.6) },
      ],
    ]);
    await sync.flush();
    expect(save).toHaveBeenCalledTimes(1);
  });

  it('a failed save is retried at the next flush, with a warning', async () => {
    const { store, save, saved } = fakeStore();
    save.mockRejectedValueOnce(new Error('ECONNREFUSED'));
    const { sync, windows, warn } = start(store);
    windows.observe({ accessKeyId: 'k1', userId: 'u1' }, reading(0.5), T0);
    await sync.flush();
    expect(save).toHaveBeenCalledTimes(1);
    expect(saved).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toBe('could not store Plan window readings; retrying');
    await sync.flush();
    expect(save).toHaveBeenCalledTimes(2);
    expect(saved).toEqual([[{ accessKeyId: 'k1', userId: 'u1', observedAt: T0, limits: reading(0.5) }]]);
    await sync.flush();
    expect(save).toHaveBeenCalledTimes(2);
  });

  it('the timer flushes every intervalMs', async () => {
    vi.useFakeTimers();
    const { store, saved } = fakeStore();
    const { windows } = start(store, undefined, 1_000);
    windows.observe({ accessKeyId: 'k1', userId: 'u1' }, reading(0.5), T0);
    await vi.advanceTimersByTimeAsync(999);
    expect(saved).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(saved.map((batch) => batch.map((e) => e.accessKeyId))).toEqual([['k1']]);
  });

  it('load merges stored rows (an older row does not replace a newer reading) and moves the cursor', async () => {
    const newest = new Date(T0 + 20_000);
    const rows: Row[] = [
      { accessKeyId: 'k1', userId: 'u1', observedAt: T0 - 1, limits: reading(0.99), updatedAt: new Date(T0 + 10_000) },
      { accessKeyId: 'k2', userId: 'u2', observedAt: T0, limits: reading(0.4), updatedAt: newest },
      { accessKeyId: 'k3', userId: 'u3', observedAt: T0, limits: reading(0.3), updatedAt: new Date(T0 + 15_000) },
    ];
    const { store, changedSince } = fakeStore([rows]);
    const { sync, windows } = start(store);
    windows.observe({ accessKeyId: 'k1', userId: 'u1' }, reading(0.5), T0);
    await sync.load();
    expect(changedSince).toHaveBeenCalledWith(null);
    expect(windows.get('k1')?.limits).toEqual(reading(0.5));
    expect(windows.get('k2')).toEqual({ accessKeyId: 'k2', userId: 'u2', observedAt: T0, limits: reading(0.4) });
    expect(windows.get('k3')?.limits).toEqual(reading(0.3));
    await sync.load();
    expect(changedSince).toHaveBeenCalledTimes(2);
    expect(changedSince.mock.calls[1]?.[0]).toEqual(new Date(T0 + 20_000 - 5_000));
  });

  it('an empty load keeps the cursor', async () => {
    const { store, changedSince } = fakeStore([[{ accessKeyId: 'k1', userId: 'u1', observedAt: T0, limits: reading(0.5), updatedAt: new Date(T0) }], []]);
    const { sync } = start(store);
    await sync.load();
    await sync.load();
    await sync.load();
    expect(changedSince.mock.calls.map(([since]) => since)).toEqual([null, new Date(T0 - 5_000), new Date(T0 - 5_000)]);
  });

  it('a failed load warns and does not move the cursor', async () => {
    const { store, changedSince } = fakeStore();
    changedSince.mockRejectedValueOnce(new Error('ECONNREFUSED'));
    const { sync, warn } = start(store);
    await sync.load();
    expect(warn).toHaveBeenCalledTimes(1);
    await sync.load();
    expect(changedSince.mock.calls.map(([since]) => since)).toEqual([null, null]);
  });

  it('loads asked for during a load fold into one more load after it, from the new cursor', async () => {
    let release: (rows: Row[]) => void = () => {};
    const { store, changedSince } = fakeStore();
    changedSince.mockImplementationOnce(() => new Promise<Row[]>((resolve) => (release = resolve)));
    const { sync, windows } = start(store);
    const first = sync.load();
    const second = sync.load();
    const third = sync.load();
    expect(changedSince).toHaveBeenCalledTimes(1);
    release([{ accessKeyId: 'k1', userId: 'u1', observedAt: T0, limits: reading(0.5), updatedAt: new Date(T0) }]);
    await Promise.all([first, second, third]);
    // The notices may be for rows committed after the first read: read once more, not once per notice.
    expect(changedSince.mock.calls.map(([since]) => since)).toEqual([null, new Date(T0 - 5_000)]);
    expect(windows.get('k1')?.limits).toEqual(reading(0.5));
    await sync.load(); // after it settles, a new load asks again
    expect(changedSince).toHaveBeenCalledTimes(3);
  });

  it('close flushes what is pending', async () => {
    const { store, saved } = fakeStore();
    const { sync: started, windows } = start(store);
    windows.observe({ accessKeyId: 'k1', userId: 'u1' }, reading(0.5), T0);
    sync = undefined;
    await started.close();
    expect(saved.map((batch) => batch.map((e) => e.accessKeyId))).toEqual([['k1']]);
  });
});
