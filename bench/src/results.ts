/** What one scenario measured per target, and the rows of the report made from it (pure). */
import type { LoadResult } from './load-protocol.ts';
import type { ProcUsage } from './proc-sampler.ts';
import type { ScenarioKind, TargetName } from './scenarios.ts';
import type { HeapFigures } from './inspector-memory.ts';
import { summarise } from './stats.ts';

export interface TargetRun {
  target: TargetName;
  load: LoadResult;
  /** The gateway's own process (proxy or Portkey); none for direct. */
  gateway: ProcUsage | undefined;
  /** CPU of the fake upstream and of the load generator, % of one core: they must not be the bottleneck. */
  upstreamCpuPercent: number;
  loadgenCpuPercent: number;
  /** All cores' busy share during the target's windows: near 100 %, the machine, not the gateway, set the pace. */
  machineBusyPercent: number;
}

export interface ScenarioRun {
  id: string;
  title: string;
  kind: ScenarioKind;
  concurrency: number;
  runs: TargetRun[];
}

export function emptyLoad(): LoadResult {
  return { windowMs: 0, completedInWindow: 0, started: 0, latencies: [], ttfbs: [], maxGaps: [], errors: 0, incomplete: 0, reasons: {} };
}

/** Two segments of one target as one measurement. */
export function mergeLoad(a: LoadResult, b: LoadResult): LoadResult {
  const reasons = { ...a.reasons };
  for (const [k, v] of Object.entries(b.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
  return {
    windowMs: a.windowMs + b.windowMs,
    completedInWindow: a.completedInWindow + b.completedInWindow,
    started: a.started + b.started,
    latencies: a.latencies.concat(b.latencies),
    ttfbs: a.ttfbs.concat(b.ttfbs),
    maxGaps: a.maxGaps.concat(b.maxGaps),
    errors: a.errors + b.errors,
    incomplete: a.incomplete + b.incomplete,
    reasons,
  };
}

/** Segments of one process: CPU time adds up over the summed wall time, memory peaks. */
export function mergeProc(a: ProcUsage | undefined, b: ProcUsage | undefined, aWallMs: number, bWallMs: number): ProcUsage | undefined {
  if (!a || !b) return a ?? b;
  const wall = aWallMs + bWallMs;
  return { cpuMs: a.cpuMs + b.cpuMs, cpuPercent: wall > 0 ? ((a.cpuPercent * aWallMs + b.cpuPercent * bWallMs) / wall) : NaN, peakRssMb: Math.max(a.peakRssMb, b.peakRssMb) };
}

export interface Row {
  scenario: string;
  target: TargetName;
  requests: number;
  rps: number;
  /** rps over the direct target's rps in the same scenario. */
  ofDirect: number | undefined;
  latencyP50: number;
  latencyP99: number;
  ttfbP50: number;
  ttfbP99: number;
  /** p50 TTFB minus the direct target's p50 TTFB in the same scenario. */
  addedTtfbP50: number | undefined;
  /**
   * The same against the floor (src/floor-proxy.ts) in the same scenario, for the gateways (not
   * direct, not the floor itself): a ratio and differences that mean the same on any machine.
   */
  ofFloor: number | undefined;
  addedTtfbP50OverFloor: number | undefined;
  addedTtfbP99OverFloor: number | undefined;
  errors: number;
  incomplete: number;
  /** Longest pause between two chunks of any stream (long streams only). */
  maxGapMs: number | undefined;
  cpuPercent: number | undefined;
  cpuUsPerRequest: number | undefined;
  peakRssMb: number | undefined;
  upstreamCpuPercent: number;
  loadgenCpuPercent: number;
  machineBusyPercent: number;
  reasons: Record<string, number>;
}

export function rows(scenario: ScenarioRun): Row[] {
  const direct = scenario.runs.find((r) => r.target === 'direct');
  const directRps = direct && direct.load.windowMs > 0 ? (direct.load.completedInWindow / direct.load.windowMs) * 1000 : undefined;
  const directTtfb = direct ? summarise(direct.load.ttfbs).p50 : undefined;
  const floor = scenario.runs.find((r) => r.target === 'floor');
  const floorRps = floor && floor.load.windowMs > 0 ? (floor.load.completedInWindow / floor.load.windowMs) * 1000 : undefined;
  const floorTtfb = floor ? summarise(floor.load.ttfbs) : undefined;
  return scenario.runs.map((run) => {
    const { load } = run;
    const rps = load.windowMs > 0 ? (load.completedInWindow / load.windowMs) * 1000 : 0;
    const latency = summarise(load.latencies);
    const ttfb = summarise(load.ttfbs);
    const gaps = summarise(load.maxGaps);
    const isDirect = run.target === 'direct';
    const overFloor = run.target === 'proxy' || run.target === 'portkey';
    return {
      scenario: scenario.id,
      target: run.target,
      requests: load.latencies.length,
      rps,
      ofDirect: !isDirect && directRps ? rps / directRps : undefined,
      latencyP50: latency.p50,
      latencyP99: latency.p99,
      ttfbP50: ttfb.p50,
      ttfbP99: ttfb.p99,
      addedTtfbP50: !isDirect && directTtfb !== undefined ? ttfb.p50 - directTtfb : undefined,
      ofFloor: overFloor && floorRps ? rps / floorRps : undefined,
      addedTtfbP50OverFloor: overFloor && floorTtfb ? ttfb.p50 - floorTtfb.p50 : undefined,
      addedTtfbP99OverFloor: overFloor && floorTtfb ? ttfb.p99 - floorTtfb.p99 : undefined,
      errors: load.errors,
      incomplete: load.incomplete,
      maxGapMs: load.maxGaps.length ? gaps.max : undefined,
      cpuPercent: run.gateway?.cpuPercent,
      cpuUsPerRequest: run.gateway && load.completedInWindow > 0 ? (run.gateway.cpuMs * 1000) / load.completedInWindow : undefined,
      peakRssMb: run.gateway?.peakRssMb,
      upstreamCpuPercent: run.upstreamCpuPercent,
      loadgenCpuPercent: run.loadgenCpuPercent,
      machineBusyPercent: run.machineBusyPercent,
      reasons: load.reasons,
    };
  });
}

/** The proxy's memory around the long-streams scenario (VmRSS and its parts from /proc/<pid>/status, MB). */
export interface LongMemory {
  streams: number;
  /** Scenarios the same proxy process served before the long streams opened, in order. */
  servedBefore: string[];
  before: MemorySample;
  /** The sample with the highest VmRSS while the streams were open. */
  peak: MemorySample;
  /** (peak − before) VmRSS per stream, KB. */
  perStreamKb: number;
  /**
   * `--heap`: the proxy's process.memoryUsage() before the streams opened and once every one had
   * its first byte (garbage not collected first, so heap used includes what is not yet collected).
   */
  heapBefore?: HeapFigures;
  heapOpen?: HeapFigures;
}

export interface MemorySample {
  rssMb: number;
  /** Anonymous memory (V8 heap, buffers, native allocations) and file-backed pages (code, mapped files). */
  anonMb: number;
  fileMb: number;
}

export function perStreamKb(before: MemorySample, peak: MemorySample, streams: number): number {
  return streams > 0 ? ((peak.rssMb - before.rssMb) * 1024) / streams : NaN;
}
