/** The performance targets (bench/README.md), judged from the rows of one run (pure). */
import type { LongMemory, Row } from './results.ts';

export interface TargetVerdict {
  name: string;
  /** undefined: the scenario was not run (`--only`) or produced no figure. */
  met: boolean | undefined;
  figures: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ms = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`;

function row(all: Row[], scenario: string, target: Row['target']): Row | undefined {
  return all.find((r) => r.scenario === scenario && r.target === target);
}

function verdict(name: string, value: number | undefined, ok: (v: number) => boolean, figures: (v: number) => string): TargetVerdict {
  if (value === undefined || Number.isNaN(value)) return { name, met: undefined, figures: 'not measured' };
  return { name, met: ok(value), figures: figures(value) };
}

export const RSS_BUDGET_MB = 250;

export function evaluateTargets(all: Row[], memory?: LongMemory): TargetVerdict[] {
  const plan = (c: number) => row(all, `stream-c${c}`, 'proxy');
  const floor = (c: number) => row(all, `stream-c${c}`, 'floor');
  const planC50 = plan(50);
  const json = row(all, 'json-c50', 'proxy');
  const long = row(all, 'long-c1000', 'proxy');

  const ttfbNearFloor = (c: number): TargetVerdict => {
    const p = plan(c);
    const f = floor(c);
    return verdict(
      `streamed, Plan, c=${c}: added p50 TTFB within 1 ms of the floor's`,
      p?.addedTtfbP50OverFloor,
      (v) => v <= 1,
      (v) => `${ms(v)} over the floor (proxy ${ms(p!.addedTtfbP50 ?? NaN)}, floor ${ms(f?.addedTtfbP50 ?? NaN)} over direct)`,
    );
  };
  const rpsOfFloor = (c: number, share: number, r: Row | undefined, name: string): TargetVerdict =>
    verdict(name, r?.ofFloor, (v) => v >= share, (v) => `${pct(v)} (${r!.rps.toFixed(0)} req/s; ${pct(r!.ofDirect ?? NaN)} of direct)`);

  // Bedrock against the Plan path measured in the same run: CPU per request, and the TTFB each adds over its own direct.
  const bedrock = (api: 'invoke' | 'converse'): TargetVerdict[] => {
    const b = row(all, `bedrock-${api}`, 'proxy');
    const planCpu = planC50?.cpuUsPerRequest;
    return [
      verdict(
        `Bedrock ${api}: proxy CPU per request ≤ 1.5× the Plan path's`,
        b?.cpuUsPerRequest !== undefined && planCpu ? b.cpuUsPerRequest / planCpu : undefined,
        (v) => v <= 1.5,
        (v) => `${v.toFixed(2)}× (${b!.cpuUsPerRequest!.toFixed(0)} vs ${planCpu!.toFixed(0)} µs per request at stream-c50)`,
      ),
      verdict(
        `Bedrock ${api}: added p50 TTFB at c=50 ≤ 10 ms over the Plan path's`,
        b?.addedTtfbP50 !== undefined && planC50?.addedTtfbP50 !== undefined ? b.addedTtfbP50 - planC50.addedTtfbP50 : undefined,
        (v) => v <= 10,
        (v) => `${ms(v)} (Bedrock ${ms(b!.addedTtfbP50!)} over direct Bedrock, Plan ${ms(planC50!.addedTtfbP50!)} over direct at stream-c50)`,
      ),
    ];
  };

  const after = memory && memory.servedBefore.length > 0 ? `after ${memory.servedBefore.join(', ')} in the same process` : 'in a fresh process (the target asks for one that served the other scenarios first)';
  return [
    ttfbNearFloor(1),
    ttfbNearFloor(50),
    rpsOfFloor(50, 0.97, plan(50), "streamed, Plan, c=50: throughput ≥ 97 % of the floor's"),
    rpsOfFloor(200, 0.97, plan(200), "streamed, Plan, c=200: throughput ≥ 97 % of the floor's"),
    ...bedrock('invoke'),
    ...bedrock('converse'),
    rpsOfFloor(50, 0.8, json, "JSON answers, c=50: throughput ≥ 80 % of the floor's"),
    verdict(
      '1,000 concurrent long streams after the other scenarios: 0 errors',
      long ? long.errors + long.incomplete : undefined,
      (v) => v === 0,
      () => `${long!.errors} errors, ${long!.incomplete} incomplete, ${after}`,
    ),
    verdict(
      `1,000 concurrent long streams after the other scenarios: peak RSS ≤ ${RSS_BUDGET_MB} MB`,
      memory?.peak.rssMb ?? long?.peakRssMb,
      (v) => v <= RSS_BUDGET_MB,
      (v) =>
        memory
          ? `peak ${v.toFixed(0)} MB, ${memory.before.rssMb.toFixed(0)} MB before the streams opened (${memory.perStreamKb.toFixed(0)} KB per stream), ${after}`
          : `peak ${v.toFixed(0)} MB`,
    ),
  ];
}
