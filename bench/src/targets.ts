/** The targets, judged from the rows of one run (pure). */
import type { Row } from './results.ts';

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

export function evaluateTargets(all: Row[]): TargetVerdict[] {
  const c50 = row(all, 'stream-c50', 'proxy');
  const c1 = row(all, 'stream-c1', 'proxy');
  const c200 = row(all, 'stream-c200', 'proxy');
  const json = row(all, 'json-c50', 'proxy');
  const jsonPortkey = row(all, 'json-c50', 'portkey');
  const thousand = [row(all, 'stream-c1000', 'proxy'), row(all, 'long-c1000', 'proxy')].filter((r): r is Row => r !== undefined);
  const invoke = row(all, 'bedrock-invoke', 'proxy');
  const converse = row(all, 'bedrock-converse', 'proxy');

  const failures = thousand.length ? thousand.reduce((n, r) => n + r.errors + r.incomplete, 0) : undefined;
  const peak = thousand.length ? Math.max(...thousand.map((r) => r.peakRssMb ?? NaN)) : undefined;
  const each = (f: (r: Row) => string) => thousand.map((r) => `${r.scenario}: ${f(r)}`).join('; ');

  return [
    verdict('streaming c=50: proxy throughput ≥ 95 % of direct', c50?.ofDirect, (v) => v >= 0.95, (v) => `${pct(v)} (${c50!.rps.toFixed(0)} req/s)`),
    verdict('streaming c=50: added p50 TTFB ≤ 3 ms', c50?.addedTtfbP50, (v) => v <= 3, ms),
    verdict('streaming c=1: added p50 TTFB ≤ 1 ms', c1?.addedTtfbP50, (v) => v <= 1, ms),
    verdict('streaming c=200: proxy throughput ≥ 85 % of direct', c200?.ofDirect, (v) => v >= 0.85, (v) => `${pct(v)} (${c200!.rps.toFixed(0)} req/s)`),
    verdict(
      'non-streaming c=50: proxy ≥ 2.5× Portkey throughput',
      json && jsonPortkey && jsonPortkey.rps > 0 ? json.rps / jsonPortkey.rps : undefined,
      (v) => v >= 2.5,
      (v) => `${v.toFixed(2)}× (${json!.rps.toFixed(0)} vs ${jsonPortkey!.rps.toFixed(0)} req/s)`,
    ),
    verdict('1,000 concurrent streams: zero errors', failures, (v) => v === 0, () => each((r) => `${r.errors} errors, ${r.incomplete} incomplete`)),
    verdict('1,000 concurrent streams: proxy RSS ≤ 250 MB', peak, (v) => v <= 250, () => each((r) => `peak ${(r.peakRssMb ?? NaN).toFixed(0)} MB`)),
    verdict(
      'Bedrock fallback: converse adds ≤ 2 ms p50 over invoke',
      invoke && converse ? converse.latencyP50 - invoke.latencyP50 : undefined,
      (v) => v <= 2,
      // CPU per request is the steadier sign of the translation's cost when the machine is busy.
      (v) =>
        `${ms(v)} (p50 ${converse!.latencyP50.toFixed(2)} vs ${invoke!.latencyP50.toFixed(2)} ms; ` +
        `proxy CPU ${(converse!.cpuUsPerRequest ?? NaN).toFixed(0)} vs ${(invoke!.cpuUsPerRequest ?? NaN).toFixed(0)} µs per request)`,
    ),
  ];
}
