/**
 * The sizing run's figures (pure, tested in test/sizing.test.ts): which concurrency steps are
 * within the latency limit, the capacity they give, what that is in developers per task, and
 * bench/results/sizing.md.
 */
import { fmtMs } from './report.ts';

/** The limit every step is judged by: p99 TTFB the proxy adds over direct at the same concurrency. */
export const ADDED_P99_LIMIT_MS = 50;
/** The seed's task has 1 GiB of memory; long streams may not take the proxy past it. */
export const RSS_LIMIT_MB = 1024;

/**
 * The request pattern "developers per task" assumes: an active developer running Claude Code
 * sends one model request every 20 s on average at the busiest hour, each streaming for 15 s on
 * average, so 0.05 requests per second and 0.75 streams open at any moment per developer.
 */
export const SECONDS_BETWEEN_REQUESTS = 20;
export const STREAM_SECONDS = 15;
export const REQUESTS_PER_SECOND_PER_DEVELOPER = 1 / SECONDS_BETWEEN_REQUESTS;
export const OPEN_STREAMS_PER_DEVELOPER = STREAM_SECONDS / SECONDS_BETWEEN_REQUESTS;
/**
 * A streamed answer costs the proxy CPU per upstream write (one SSE event or a few), so the
 * measured req/s is converted by writes: the bench's stream arrives in 21 (its head, then 20
 * deltas); a Claude Code answer is assumed to arrive in 200 (about 600 output tokens, ~3 per
 * delta). Charging every write the measured request's whole cost overstates a long answer's
 * cost a little (its fixed part is paid once): the answer errs low.
 */
export const WRITES_PER_MEASURED_STREAM = 21;
export const WRITES_PER_CLAUDE_CODE_ANSWER = 200;

export function concurrencySteps(quick: boolean): number[] {
  return quick ? [5, 20, 60] : [5, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480];
}

export function longStreamSteps(quick: boolean): number[] {
  return quick ? [100, 300] : [250, 500, 1000, 2000, 4000];
}

/** One closed-loop step: the proxy and direct at the same concurrency. */
export interface Step {
  concurrency: number;
  rps: number;
  ttfbP50: number;
  ttfbP99: number;
  directTtfbP99: number;
  errors: number;
  incomplete: number;
  /** Failed requests by reason ("status 529"). */
  reasons: Record<string, number>;
  /** The proxy's CPU over the window, % of one core (the limit allows 50). */
  cpuPercent: number;
}

/** Long streams held open while a c=1 probe of normal streams measures TTFB. */
export interface LongStep {
  streams: number;
  /** Every stream had its first byte before the probe started. */
  opened: boolean;
  /** Streams whose first byte came within the wait before the probe (all of them when `opened`). */
  openedInTime: number;
  /** That wait, ms. */
  openWaitMs: number;
  probeTtfbP50: number;
  probeTtfbP99: number;
  /** The same probe against direct with no long streams open. */
  directProbeTtfbP99: number;
  errors: number;
  incomplete: number;
  reasons: Record<string, number>;
  peakRssMb: number;
  cpuPercent: number;
}

function failed(s: Pick<Step, 'errors' | 'incomplete' | 'reasons'>): string {
  const why = Object.entries(s.reasons).map(([reason, n]) => `${reason} ×${n}`).join(', ');
  return `${s.errors} errors, ${s.incomplete} incomplete${why ? ` (${why})` : ''}`;
}

export const addedP99 = (s: Pick<Step, 'ttfbP99' | 'directTtfbP99'>): number => s.ttfbP99 - s.directTtfbP99;
export const longAddedP99 = (s: Pick<LongStep, 'probeTtfbP99' | 'directProbeTtfbP99'>): number => s.probeTtfbP99 - s.directProbeTtfbP99;

/** Why a step is over the limit, or undefined when it is within it. */
export function stepFailure(s: Step): string | undefined {
  if (s.errors + s.incomplete > 0) return failed(s);
  const added = addedP99(s);
  if (!(added <= ADDED_P99_LIMIT_MS)) return `p99 TTFB +${added.toFixed(1)} ms over direct`;
  return undefined;
}

export function longStepFailure(s: LongStep): string | undefined {
  if (!s.opened) return `${s.openedInTime} of ${s.streams} streams had their first byte within ${(s.openWaitMs / 1000).toFixed(1)} s`;
  if (s.errors + s.incomplete > 0) return failed(s);
  const added = longAddedP99(s);
  if (!(added <= ADDED_P99_LIMIT_MS)) return `probe p99 TTFB +${added.toFixed(1)} ms over direct`;
  if (!(s.peakRssMb < RSS_LIMIT_MB)) return `peak RSS ${s.peakRssMb.toFixed(0)} MB`;
  return undefined;
}

/** The highest step before the first one over the limit (steps in increasing order), or undefined when the first one already is. */
export function lastWithin<T>(steps: T[], failure: (s: T) => string | undefined): T | undefined {
  let best: T | undefined;
  for (const s of steps) {
    if (failure(s) !== undefined) break;
    best = s;
  }
  return best;
}

export interface Capacity {
  /** Sustainable streamed requests per second (the best step's req/s), scaled: the bench's short streams. */
  requestsPerSecond: number;
  /** Concurrent long streams held within the limits, scaled. */
  openStreams: number;
}

export interface DevelopersPerTask {
  byRequests: number;
  byStreams: number;
  developers: number;
  limitedBy: 'requests per second' | 'open streams';
}

/** Claude Code answers per second the measured capacity stands for (see WRITES_PER_CLAUDE_CODE_ANSWER). */
export const answersPerSecond = (c: Capacity): number => (c.requestsPerSecond * WRITES_PER_MEASURED_STREAM) / WRITES_PER_CLAUDE_CODE_ANSWER;

/** min(answers per second / req/s per developer, open streams capacity / open streams per developer), whole developers. */
export function developersPerTask(c: Capacity): DevelopersPerTask {
  const byRequests = Math.floor(answersPerSecond(c) / REQUESTS_PER_SECOND_PER_DEVELOPER);
  const byStreams = Math.floor(c.openStreams / OPEN_STREAMS_PER_DEVELOPER);
  return { byRequests, byStreams, developers: Math.min(byRequests, byStreams), limitedBy: byRequests <= byStreams ? 'requests per second' : 'open streams' };
}

export interface SizingReport {
  date: string;
  machine: string;
  source: string;
  database: string;
  command: string;
  quick: boolean;
  /** How the proxy was held to half a core, and the factor its figures were scaled by. */
  cpuLimit: string;
  scale: number;
  plan: Step[];
  bedrock: Step[];
  longSeconds: number;
  long: LongStep[];
  notes: string[];
}

export interface SizingAnswer {
  path: 'Plan' | 'Bedrock';
  /** The best step within the limit, undefined when even the first was over it. */
  best: Step | undefined;
  capacity: Capacity;
  developers: DevelopersPerTask;
}

/** Per path: the highest step within the limits, scaled, and developers per task with the long-stream capacity. */
export function answers(r: Pick<SizingReport, 'plan' | 'bedrock' | 'long' | 'scale'>): SizingAnswer[] {
  const long = lastWithin(r.long, longStepFailure);
  const openStreams = (long?.streams ?? 0) * r.scale;
  return (
    [
      ['Plan', r.plan],
      ['Bedrock', r.bedrock],
    ] as const
  ).map(([path, steps]) => {
    const best = lastWithin(steps, stepFailure);
    const capacity = { requestsPerSecond: (best?.rps ?? 0) * r.scale, openStreams };
    return { path, best, capacity, developers: developersPerTask(capacity) };
  });
}

const n0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const signedMs = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmtMs(x)}` : '–');

function stepTable(steps: Step[]): string[] {
  const lines = ['| concurrency | req/s | TTFB p50 / p99 ms | direct TTFB p99 ms | added p99 | errors / incomplete | proxy CPU | within |', '|---:|---:|---:|---:|---:|---:|---:|---|'];
  for (const s of steps) {
    const failure = stepFailure(s);
    lines.push(
      `| ${s.concurrency} | ${n0(s.rps)} | ${fmtMs(s.ttfbP50)} / ${fmtMs(s.ttfbP99)} | ${fmtMs(s.directTtfbP99)} | ${signedMs(addedP99(s))} | ${s.errors} / ${s.incomplete} | ${n0(s.cpuPercent)} % | ${failure ? `no: ${failure}` : 'yes'} |`,
    );
  }
  return lines;
}

function longTable(steps: LongStep[]): string[] {
  const lines = ['| open long streams | probe TTFB p50 / p99 ms | direct probe p99 ms | added p99 | errors / incomplete | peak RSS MB | proxy CPU | within |', '|---:|---:|---:|---:|---:|---:|---:|---|'];
  for (const s of steps) {
    const failure = longStepFailure(s);
    lines.push(
      `| ${s.streams} | ${fmtMs(s.probeTtfbP50)} / ${fmtMs(s.probeTtfbP99)} | ${fmtMs(s.directProbeTtfbP99)} | ${signedMs(longAddedP99(s))} | ${s.errors} / ${s.incomplete} | ${n0(s.peakRssMb)} | ${n0(s.cpuPercent)} % | ${failure ? `no: ${failure}` : 'yes'} |`,
    );
  }
  return lines;
}

export function renderSizing(r: SizingReport): string {
  const scaled = r.scale === 1 ? '' : ` (× ${r.scale})`;
  const lines = answers(r).map(
    (a) =>
      `- ${a.path}: ${n0(a.capacity.requestsPerSecond)} streamed req/s sustained${scaled}` +
      (a.best ? ` (closed loop at concurrency ${a.best.concurrency}, p99 TTFB ${signedMs(addedP99(a.best))} ms over direct)` : ' (even the first step was over the limit)') +
      `, which is ${a.capacity.requestsPerSecond > 0 ? answersPerSecond(a.capacity).toFixed(1) : '0'} Claude Code answers/s of ${WRITES_PER_CLAUDE_CODE_ANSWER} writes` +
      `; ${n0(a.capacity.openStreams)} concurrent long streams${scaled}; **${a.developers.developers} developers per task** ` +
      `(${a.developers.byRequests} by requests per second, ${a.developers.byStreams} by open streams; limited by ${a.developers.limitedBy})`,
  );
  return [
    '# Sizing: one proxy task at half a core',
    '',
    r.quick ? '**Quick run (`--sizing --quick`): smoke figures only.**\n' : '',
    `- Date: ${r.date}`,
    `- Machine: ${r.machine}`,
    `- Proxy source: ${r.source}`,
    `- Database: ${r.database}`,
    `- CPU limit: ${r.cpuLimit}`,
    `- Command: \`${r.command}\``,
    '',
    '## Answer',
    '',
    ...lines,
    '',
    `Request pattern behind "developers per task": one model request every ${SECONDS_BETWEEN_REQUESTS} s per active developer at the busiest hour, ` +
      `each streaming for ${STREAM_SECONDS} s on average: ${REQUESTS_PER_SECOND_PER_DEVELOPER} req/s and ${OPEN_STREAMS_PER_DEVELOPER} open streams per developer; ` +
      `a Claude Code answer arrives in ${WRITES_PER_CLAUDE_CODE_ANSWER} upstream writes where the measured stream has ${WRITES_PER_MEASURED_STREAM}, so answers/s = req/s × ${WRITES_PER_MEASURED_STREAM} / ${WRITES_PER_CLAUDE_CODE_ANSWER}; ` +
      'developers per task = min(answers/s / ' + REQUESTS_PER_SECOND_PER_DEVELOPER + ', open-stream capacity / ' + OPEN_STREAMS_PER_DEVELOPER + '). ' +
      'The open-stream capacity is the long-stream figure (Plan path) for both rows.',
    '',
    '## Plan (Anthropic SSE, 20 deltas 5 ms apart), closed loop',
    '',
    ...stepTable(r.plan),
    '',
    '## Bedrock (invoke-with-response-stream, a bedrock_only user), closed loop',
    '',
    ...stepTable(r.bedrock),
    '',
    `## Concurrent long streams (a delta a second for ${r.longSeconds} s) with a c=1 probe of normal streams`,
    '',
    ...longTable(r.long),
    '',
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
    '## Method',
    '',
    `The proxy alone is held to half a core (${r.cpuLimit}); the fake upstream and the load generator are not limited. ` +
      'Each step runs direct (the fake upstream without the proxy) and then the proxy at the same closed-loop concurrency; ' +
      `"added p99" is the proxy's p99 TTFB minus direct's. Steps go up until one has errors, incomplete streams or adds more than ${ADDED_P99_LIMIT_MS} ms; ` +
      'the answer is the highest step before it. Long streams: N requests at once on the Plan path, a delta a second; once every one has its first byte, ' +
      `a c=1 closed loop of normal streams through the proxy measures TTFB against the same probe sent direct with nothing open; a step counts when every stream ` +
      `opened, none failed, the probe's p99 added at most ${ADDED_P99_LIMIT_MS} ms and the proxy stayed under ${RSS_LIMIT_MB} MB RSS. proxy CPU is % of one core.`,
    '',
  ].join('\n');
}
