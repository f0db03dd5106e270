import { describe, expect, it } from 'vitest';
import { fmtMs, renderTable, renderVerdict, summaryLine } from '../src/report.ts';
import { emptyLoad, mergeLoad, rows, type ScenarioRun } from '../src/results.ts';
import { evaluateTargets } from '../src/targets.ts';

function run(id: string, kind: ScenarioRun['kind'], perTarget: Array<{ target: 'direct' | 'proxy' | 'portkey'; rps: number; ttfb: number; rss?: number }>): ScenarioRun {
  return {
    id,
    title: id,
    kind,
    concurrency: 50,
    runs: perTarget.map(({ target, rps, ttfb, rss }) => ({
      target,
      load: { ...emptyLoad(), windowMs: 1000, completedInWindow: rps, started: rps, latencies: [100, 101, 102], ttfbs: [ttfb, ttfb, ttfb] },
      gateway: target === 'direct' ? undefined : { cpuMs: 500, cpuPercent: 50, peakRssMb: rss ?? 120 },
      upstreamCpuPercent: 20,
      loadgenCpuPercent: 25,
      machineBusyPercent: 70,
    })),
  };
}

describe('rows', () => {
  it('relate each gateway to direct in the same scenario', () => {
    const [direct, proxy] = rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'proxy', rps: 380, ttfb: 3.5 }]));
    expect(direct!.ofDirect).toBeUndefined();
    expect(proxy!.ofDirect).toBeCloseTo(0.95);
    expect(proxy!.addedTtfbP50).toBeCloseTo(1.5);
    expect(proxy!.cpuUsPerRequest).toBeCloseTo((500 * 1000) / 380);
  });

  it('merged segments add up counts and samples', () => {
    const a = { ...emptyLoad(), windowMs: 1000, completedInWindow: 10, latencies: [1], ttfbs: [1], errors: 1, reasons: { 'status 529': 1 } };
    const b = { ...emptyLoad(), windowMs: 2000, completedInWindow: 5, latencies: [2], ttfbs: [2], incomplete: 2, reasons: { 'status 529': 2, 'no message_stop': 2 } };
    expect(mergeLoad(a, b)).toMatchObject({ windowMs: 3000, completedInWindow: 15, latencies: [1, 2], errors: 1, incomplete: 2, reasons: { 'status 529': 3, 'no message_stop': 2 } });
  });
});

describe('renderTable', () => {
  it('one header, one separator and one line per target, numbers right-aligned', () => {
    const table = renderTable(rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'proxy', rps: 380, ttfb: 3.5 }])));
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| scenario \| target \| req\/s \|/);
    expect(lines[1]).toMatch(/^\|---\|---\|---:\|/);
    expect(lines[2]).toContain('| stream-c50 | direct | 400 | – |');
    expect(lines[3]).toContain('| stream-c50 | proxy | 380 | 95.0 % | 101.0 / 102.0 | 3.50 / 3.50 | +1.50 |');
  });

  it('formats milliseconds by magnitude', () => {
    expect(fmtMs(0.456)).toBe('0.46');
    expect(fmtMs(123.45)).toBe('123.5');
    expect(fmtMs(6327.4)).toBe('6327');
    expect(fmtMs(undefined)).toBe('–');
  });
});

describe('targets', () => {
  it('judges each target from its scenario and says which were not measured', () => {
    const all = [
      ...rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'proxy', rps: 390, ttfb: 6 }])),
      ...rows(run('json-c50', 'json', [{ target: 'direct', rps: 3000, ttfb: 1 }, { target: 'proxy', rps: 1500, ttfb: 2 }, { target: 'portkey', rps: 500, ttfb: 5 }])),
    ];
    const verdicts = evaluateTargets(all);
    const byName = (start: string) => verdicts.find((v) => v.name.startsWith(start))!;
    expect(byName('streaming c=50: proxy throughput').met).toBe(true);
    expect(byName('streaming c=50: added p50 TTFB').met).toBe(false);
    expect(renderVerdict(byName('streaming c=50: added p50 TTFB'))).toBe('MISSED: streaming c=50: added p50 TTFB ≤ 3 ms — +4.00 ms');
    expect(byName('non-streaming').met).toBe(true);
    expect(byName('non-streaming').figures).toBe('3.00× (1500 vs 500 req/s)');
    expect(byName('streaming c=1:').met).toBeUndefined();
    expect(summaryLine(all, verdicts)).toMatch(/^bench: targets met 2\/3; stream-c50 98% of direct, TTFB \+4.00 ms; json-c50 3.00× Portkey$/);
  });
});
