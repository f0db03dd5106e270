import { describe, expect, it } from 'vitest';
import { fmtMs, ratioLines, renderMemory, renderTable, renderVerdict, summaryLine } from '../src/report.ts';
import { emptyLoad, mergeLoad, perStreamKb, rows, type Row, type ScenarioRun } from '../src/results.ts';
import type { TargetName } from '../src/scenarios.ts';
import { evaluateTargets } from '../src/targets.ts';

interface Figures {
  target: TargetName;
  rps: number;
  ttfb: number;
  /** p99 TTFB; the p50 one when not given. */
  ttfb99?: number;
  rss?: number;
  /** Gateway CPU ms over the 1 s window. */
  cpuMs?: number;
  errors?: number;
}

function run(id: string, kind: ScenarioRun['kind'], perTarget: Figures[]): ScenarioRun {
  return {
    id,
    title: id,
    kind,
    concurrency: 50,
    runs: perTarget.map(({ target, rps, ttfb, ttfb99, rss, cpuMs, errors }) => ({
      target,
      // 100 samples: the p50 is the 50th, the p99 the 99th.
      load: {
        ...emptyLoad(),
        windowMs: 1000,
        completedInWindow: rps,
        started: rps,
        errors: errors ?? 0,
        latencies: Array.from({ length: 100 }, (_, i) => 100 + i / 100),
        ttfbs: Array.from({ length: 100 }, (_, i) => (i < 98 ? ttfb : (ttfb99 ?? ttfb))),
      },
      gateway: target === 'direct' ? undefined : { cpuMs: cpuMs ?? 500, cpuPercent: 50, peakRssMb: rss ?? 120 },
      upstreamCpuPercent: 20,
      loadgenCpuPercent: 25,
      machineBusyPercent: 70,
    })),
  };
}

describe('rows', () => {
  it('relate each gateway to direct and to the floor in the same scenario', () => {
    const [direct, floor, proxy, portkey] = rows(
      run('stream-c50', 'stream', [
        { target: 'direct', rps: 400, ttfb: 2 },
        { target: 'floor', rps: 392, ttfb: 2.5, ttfb99: 4 },
        { target: 'proxy', rps: 380, ttfb: 3.5, ttfb99: 7 },
        { target: 'portkey', rps: 196, ttfb: 20, ttfb99: 40 },
      ]),
    );
    expect(direct).toMatchObject({ ofDirect: undefined, ofFloor: undefined, addedTtfbP50OverFloor: undefined });
    // The floor is measured against direct, never against itself.
    expect(floor!.ofDirect).toBeCloseTo(0.98);
    expect(floor!.addedTtfbP50).toBeCloseTo(0.5);
    expect(floor!.ofFloor).toBeUndefined();
    expect(proxy!.ofDirect).toBeCloseTo(0.95);
    expect(proxy!.ofFloor).toBeCloseTo(380 / 392);
    expect(proxy!.addedTtfbP50).toBeCloseTo(1.5);
    expect(proxy!.addedTtfbP50OverFloor).toBeCloseTo(1);
    expect(proxy!.addedTtfbP99OverFloor).toBeCloseTo(3);
    expect(proxy!.cpuUsPerRequest).toBeCloseTo((500 * 1000) / 380);
    expect(portkey!.ofFloor).toBeCloseTo(0.5);
    expect(portkey!.addedTtfbP99OverFloor).toBeCloseTo(36);
  });

  it('without a floor row, the ratios to it are not made up', () => {
    const [, proxy] = rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'proxy', rps: 380, ttfb: 3.5 }]));
    expect(proxy).toMatchObject({ ofFloor: undefined, addedTtfbP50OverFloor: undefined, addedTtfbP99OverFloor: undefined });
  });

  it('merged segments add up counts and samples', () => {
    const a = { ...emptyLoad(), windowMs: 1000, completedInWindow: 10, latencies: [1], ttfbs: [1], errors: 1, reasons: { 'status 529': 1 } };
    const b = { ...emptyLoad(), windowMs: 2000, completedInWindow: 5, latencies: [2], ttfbs: [2], incomplete: 2, reasons: { 'status 529': 2, 'no message_stop': 2 } };
    expect(mergeLoad(a, b)).toMatchObject({ windowMs: 3000, completedInWindow: 15, latencies: [1, 2], errors: 1, incomplete: 2, reasons: { 'status 529': 3, 'no message_stop': 2 } });
  });
});

describe('renderTable', () => {
  it('one header, one separator and one line per target, numbers right-aligned', () => {
    const table = renderTable(
      rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'floor', rps: 392, ttfb: 2.5, ttfb99: 4 }, { target: 'proxy', rps: 380, ttfb: 3.5, ttfb99: 7 }])),
    );
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\| scenario \| target \| req\/s \| of direct \| of floor \|/);
    expect(lines[1]).toMatch(/^\|---\|---\|---:\|/);
    expect(lines[2]).toContain('| stream-c50 | direct | 400 | – | – |');
    expect(lines[3]).toContain('| stream-c50 | floor | 392 | 98.0 % | – | 100.5 / 101.0 | 2.50 / 4.00 | +0.50 | – |');
    expect(lines[4]).toContain('| stream-c50 | proxy | 380 | 95.0 % | 96.9 % | 100.5 / 101.0 | 3.50 / 7.00 | +1.50 | +1.00 / +3.00 |');
  });

  it('formats milliseconds by magnitude', () => {
    expect(fmtMs(0.456)).toBe('0.46');
    expect(fmtMs(123.45)).toBe('123.5');
    expect(fmtMs(6327.4)).toBe('6327');
    expect(fmtMs(undefined)).toBe('–');
  });

  it('the console gets every gateway row against the floor', () => {
    const all = rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'floor', rps: 400, ttfb: 2.5 }, { target: 'proxy', rps: 380, ttfb: 3.5 }]));
    expect(ratioLines(all)).toEqual(['stream-c50       proxy    95% of floor (95% of direct), TTFB +1.00 ms over floor p50 / +1.00 p99']);
  });
});

/** A full run's rows: the Plan path at c=1, 50, 200, JSON, Bedrock invoke and converse, long streams. */
function fullRun(overrides: { planC50Ttfb?: number; jsonRps?: number; converseCpuMs?: number; longErrors?: number } = {}): Row[] {
  const stream = (c: number, proxyTtfb: number, proxyRps: number) =>
    rows(run(`stream-c${c}`, 'stream', [{ target: 'direct', rps: 500, ttfb: 2 }, { target: 'floor', rps: 500, ttfb: 3 }, { target: 'proxy', rps: proxyRps, ttfb: proxyTtfb }]));
  return [
    ...stream(1, 3.8, 9),
    // Plan at c=50: 500 µs of CPU per request (250 ms over 500 requests), +2 ms over direct.
    ...rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 500, ttfb: 2 }, { target: 'floor', rps: 500, ttfb: 3 }, { target: 'proxy', rps: 490, ttfb: overrides.planC50Ttfb ?? 4, cpuMs: 245 }])),
    ...stream(200, 5, 480),
    ...rows(run('json-c50', 'json', [{ target: 'direct', rps: 3000, ttfb: 1 }, { target: 'floor', rps: 2000, ttfb: 1.5 }, { target: 'proxy', rps: overrides.jsonRps ?? 1700, ttfb: 2 }])),
    // Invoke: 700 µs per request, +6 ms over its direct; converse: per overrides, +20 ms.
    ...rows(run('bedrock-invoke', 'bedrock-invoke', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'floor', rps: 400, ttfb: 3 }, { target: 'proxy', rps: 400, ttfb: 8, cpuMs: 280 }])),
    ...rows(run('bedrock-converse', 'bedrock-converse', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'floor', rps: 400, ttfb: 3 }, { target: 'proxy', rps: 400, ttfb: 22, cpuMs: overrides.converseCpuMs ?? 400 }])),
    ...rows(run('long-c1000', 'long', [{ target: 'proxy', rps: 1000, ttfb: 5, rss: 240, errors: overrides.longErrors ?? 0 }])),
  ];
}

describe('targets', () => {
  const byName = (verdicts: ReturnType<typeof evaluateTargets>, start: string) => {
    const found = verdicts.find((v) => v.name.startsWith(start));
    if (!found) throw new Error(`no target "${start}…"`);
    return found;
  };

  it('judges the Plan path against the floor: TTFB within 1 ms, throughput ≥ 97 %', () => {
    const verdicts = evaluateTargets(fullRun());
    expect(byName(verdicts, 'streamed, Plan, c=1: added p50 TTFB').met).toBe(true);
    expect(byName(verdicts, 'streamed, Plan, c=1: added p50 TTFB').figures).toBe('+0.80 ms over the floor (proxy +1.80 ms, floor +1.00 ms over direct)');
    expect(byName(verdicts, 'streamed, Plan, c=50: added p50 TTFB').met).toBe(true);
    expect(byName(verdicts, 'streamed, Plan, c=50: throughput').met).toBe(true);
    expect(byName(verdicts, 'streamed, Plan, c=200: throughput').met).toBe(false);
    expect(byName(verdicts, 'streamed, Plan, c=200: throughput').figures).toBe('96.0 % (480 req/s; 96.0 % of direct)');

    const slow = evaluateTargets(fullRun({ planC50Ttfb: 4.5 }));
    expect(renderVerdict(byName(slow, 'streamed, Plan, c=50: added p50 TTFB'))).toBe(
      "MISSED: streamed, Plan, c=50: added p50 TTFB within 1 ms of the floor's — +1.50 ms over the floor (proxy +2.50 ms, floor +1.00 ms over direct)",
    );
  });

  it('judges Bedrock against the Plan path of the same run', () => {
    const verdicts = evaluateTargets(fullRun());
    // 700 / 500 µs = 1.4×; converse 1,000 µs = 2×.
    expect(byName(verdicts, 'Bedrock invoke: proxy CPU').met).toBe(true);
    expect(byName(verdicts, 'Bedrock invoke: proxy CPU').figures).toBe('1.40× (700 vs 500 µs per request at stream-c50)');
    expect(byName(verdicts, 'Bedrock converse: proxy CPU').met).toBe(false);
    // invoke adds +6 ms over its direct, Plan +2 ms: +4 ms; converse +20 − 2 = +18 ms.
    expect(byName(verdicts, 'Bedrock invoke: added p50 TTFB').figures).toBe('+4.00 ms (Bedrock +6.00 ms over direct Bedrock, Plan +2.00 ms over direct at stream-c50)');
    expect(byName(verdicts, 'Bedrock invoke: added p50 TTFB').met).toBe(true);
    expect(byName(verdicts, 'Bedrock converse: added p50 TTFB').met).toBe(false);
    expect(byName(evaluateTargets(fullRun({ converseCpuMs: 300 })), 'Bedrock converse: proxy CPU').met).toBe(true);
  });

  it('judges JSON against the floor and the long streams by errors and memory', () => {
    const all = fullRun();
    const memory = {
      streams: 1000,
      servedBefore: ['stream-c1', 'json-c50', 'bedrock-invoke'],
      before: { rssMb: 100, anonMb: 60, fileMb: 40 },
      peak: { rssMb: 240, anonMb: 198, fileMb: 42 },
      perStreamKb: perStreamKb({ rssMb: 100, anonMb: 60, fileMb: 40 }, { rssMb: 240, anonMb: 198, fileMb: 42 }, 1000),
    };
    const verdicts = evaluateTargets(all, memory);
    expect(byName(verdicts, 'JSON answers').met).toBe(true);
    expect(byName(evaluateTargets(fullRun({ jsonRps: 1500 })), 'JSON answers').met).toBe(false);
    expect(byName(verdicts, '1,000 concurrent long streams after the other scenarios: 0 errors').met).toBe(true);
    expect(byName(evaluateTargets(fullRun({ longErrors: 3 })), '1,000 concurrent long streams after the other scenarios: 0 errors').met).toBe(false);
    const rss = byName(verdicts, '1,000 concurrent long streams after the other scenarios: peak RSS');
    expect(rss.met).toBe(true);
    expect(rss.figures).toBe('peak 240 MB, 100 MB before the streams opened (143 KB per stream), after stream-c1, json-c50, bedrock-invoke in the same process');
    expect(renderMemory(memory)[3]).toBe('- Per stream: (peak − before) / 1,000 = 143 KB of VmRSS, of which anonymous 141 KB');
    const heap = (used: number) => ({ heapUsedMb: used, heapTotalMb: 120, externalMb: 5, arrayBuffersMb: 2 });
    expect(renderMemory({ ...memory, heapBefore: heap(50), heapOpen: heap(100) }).slice(1)).toEqual([
      '- Before: VmRSS 100 MB (anonymous 60 MB, file-backed 40 MB); V8 heap used 50 MB of 120 MB, external 5 MB (array buffers 2 MB)',
      '- Peak while open: VmRSS 240 MB (anonymous 198 MB, file-backed 42 MB)',
      '- Once every stream had its first byte: V8 heap used 100 MB of 120 MB, external 5 MB (array buffers 2 MB)',
      '- Per stream: (peak − before) / 1,000 = 143 KB of VmRSS, of which anonymous 141 KB; V8 heap used 51 KB, external 0 KB (every stream open against before)',
    ]);
  });

  it('says which targets were not measured (--only), and the console line counts only the measured', () => {
    const all = rows(run('stream-c50', 'stream', [{ target: 'direct', rps: 400, ttfb: 2 }, { target: 'floor', rps: 400, ttfb: 2.5 }, { target: 'proxy', rps: 390, ttfb: 3 }]));
    const verdicts = evaluateTargets(all);
    expect(byName(verdicts, 'streamed, Plan, c=1:').met).toBeUndefined();
    expect(byName(verdicts, 'Bedrock invoke: proxy CPU').figures).toBe('not measured');
    expect(summaryLine(all, verdicts)).toBe('bench: targets met 2/2; stream-c50 98% of floor (98% of direct), TTFB +0.50 ms over floor p50 / +0.50 p99');
  });
});
