/** What the benchmark runs, in order, with the full and the `--quick` timings. */

/** `floor`: src/floor-proxy.ts, the bare passthrough every gateway row is also compared with. */
export type TargetName = 'direct' | 'floor' | 'proxy' | 'portkey';

/**
 * `stream`: Anthropic SSE (20 deltas, 5 ms apart); `json`: non-streaming, answered at once;
 * `bedrock-invoke` / `bedrock-converse`: a bedrock_only user, the proxy streaming from the fake
 * Bedrock through that API (direct: the same Bedrock operation called without the proxy);
 * `long`: one delta a second, every stream at once.
 */
export type ScenarioKind = 'stream' | 'json' | 'bedrock-invoke' | 'bedrock-converse' | 'long';

export interface Scenario {
  id: string;
  title: string;
  kind: ScenarioKind;
  concurrency: number;
  targets: TargetName[];
  /** Unrecorded load before each segment (new connections warm up, JIT settles). */
  warmupMs: number;
  /**
   * Recorded time per target. Split into two segments run in the order A B C C B A, so a change
   * of machine load during the scenario weighs on every target alike.
   */
  durationMs: number;
  /** After the window, time for running requests to end before they are aborted and counted. */
  graceMs: number;
  mode: 'closed' | 'once';
  /** Consecutive scenarios of one group run interleaved, segment by segment. */
  group?: string;
}

const ALL: TargetName[] = ['direct', 'floor', 'proxy', 'portkey'];

export function scenarios(quick: boolean): Scenario[] {
  const t = (full: number, fast: number) => (quick ? fast : full);
  const stream = (concurrency: number, durationMs: number): Scenario => ({
    id: `stream-c${concurrency}`,
    title: `streaming, concurrency ${concurrency.toLocaleString('en-US')}`,
    kind: 'stream',
    concurrency,
    targets: ALL,
    // 1,000 connections take a while to open on a busy machine, even in a smoke run.
    warmupMs: concurrency >= 1000 ? t(2_000, 1_500) : t(1_000, 500),
    durationMs: t(durationMs, concurrency >= 1000 ? 2_000 : 1_000),
    graceMs: concurrency >= 1000 ? 10_000 : t(5_000, 3_000),
    mode: 'closed',
  });
  const bedrock = (api: 'invoke' | 'converse'): Scenario => ({
    id: `bedrock-${api}`,
    title: `Bedrock fallback (${api}), streaming, concurrency 50`,
    kind: `bedrock-${api}`,
    group: 'bedrock',
    concurrency: 50,
    targets: ['direct', 'floor', 'proxy'],
    warmupMs: t(1_000, 500),
    durationMs: t(6_000, 1_000),
    graceMs: t(5_000, 3_000),
    mode: 'closed',
  });
  return [
    stream(1, 4_000),
    stream(50, 6_000),
    stream(200, 6_000),
    stream(1000, 6_000),
    {
      id: 'json-c50',
      title: 'non-streaming, zero delay, concurrency 50',
      kind: 'json',
      concurrency: 50,
      targets: ALL,
      warmupMs: t(1_000, 500),
      durationMs: t(4_000, 1_000),
      graceMs: t(5_000, 3_000),
      mode: 'closed',
    },
    bedrock('invoke'),
    bedrock('converse'),
    // Last, in the proxy process that served every scenario above (the invoke one): the memory
    // target is about a process that has done other work first, not a fresh one.
    {
      id: 'long-c1000',
      title: `1,000 concurrent long streams (a delta a second for ${longDeltas(quick)} s)`,
      kind: 'long',
      concurrency: 1000,
      targets: ['proxy'],
      warmupMs: 0,
      durationMs: 0,
      graceMs: (longDeltas(quick) + t(30, 10)) * 1000,
      mode: 'once',
    },
  ];
}

export function longDeltas(quick: boolean): number {
  return quick ? 3 : 30;
}

/** Ids for `--only`: a scenario id, or a prefix of ids (`stream`, `bedrock`). */
export function selectScenarios(all: Scenario[], only: string[] | undefined): Scenario[] {
  if (!only?.length) return all;
  const chosen = all.filter((s) => only.some((o) => s.id === o || s.id.startsWith(`${o}-`)));
  if (chosen.length === 0) throw new Error(`--only ${only.join(',')}: no such scenario (have ${all.map((s) => s.id).join(', ')})`);
  return chosen;
}
