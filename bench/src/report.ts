/** RESULTS.md and the console summary, rendered from a run's rows (pure). */
import type { LongMemory, Row } from './results.ts';
import type { TargetVerdict } from './targets.ts';

export interface RunInfo {
  date: string;
  cpuModel: string;
  cores: number;
  node: string;
  /** 1-minute load average before and after the run. */
  loadBefore: number;
  loadAfter: number;
  /** Share of all cores' time busy during the run, whoever used it. */
  machineBusyPercent: number;
  database: string;
  /** The commit of the proxy measured (and uncommitted changes, if any). */
  source: string;
  command: string;
  quick: boolean;
  notes: string[];
}

/** Milliseconds: two decimals below 10, one below 1000, none above. */
export function fmtMs(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '–';
  const abs = Math.abs(x);
  return x.toFixed(abs < 10 ? 2 : abs < 1000 ? 1 : 0);
}

function fmt(x: number | undefined, digits = 0, suffix = ''): string {
  return x === undefined || Number.isNaN(x) ? '–' : `${x.toFixed(digits)}${suffix}`;
}

function signed(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : ''}${fmtMs(x)}`;
}

const HEADER = [
  'scenario',
  'target',
  'req/s',
  'of direct',
  'of floor',
  'latency p50 / p99 ms',
  'TTFB p50 / p99 ms',
  'added TTFB p50',
  'TTFB over floor p50 / p99',
  'errors',
  'incomplete',
  'gateway CPU',
  'CPU µs/req',
  'peak RSS MB',
  'upstream / loadgen CPU',
  'machine busy',
];

export function renderTable(all: Row[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((h, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of all) {
    const cells = [
      r.scenario,
      r.target,
      fmt(r.rps, 0),
      r.ofDirect === undefined ? '–' : fmt(r.ofDirect * 100, 1, ' %'),
      r.ofFloor === undefined ? '–' : fmt(r.ofFloor * 100, 1, ' %'),
      `${fmtMs(r.latencyP50)} / ${fmtMs(r.latencyP99)}`,
      `${fmtMs(r.ttfbP50)} / ${fmtMs(r.ttfbP99)}`,
      signed(r.addedTtfbP50),
      r.addedTtfbP50OverFloor === undefined ? '–' : `${signed(r.addedTtfbP50OverFloor)} / ${signed(r.addedTtfbP99OverFloor)}`,
      String(r.errors),
      r.maxGapMs === undefined ? String(r.incomplete) : `${r.incomplete} (max gap ${fmtMs(r.maxGapMs)} ms)`,
      fmt(r.cpuPercent, 0, ' %'),
      fmt(r.cpuUsPerRequest, 0),
      fmt(r.peakRssMb, 0),
      `${fmt(r.upstreamCpuPercent, 0, ' %')} / ${fmt(r.loadgenCpuPercent, 0, ' %')}`,
      fmt(r.machineBusyPercent, 0, ' %'),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function renderVerdict(v: TargetVerdict): string {
  const mark = v.met === undefined ? 'not measured' : v.met ? 'met' : 'MISSED';
  return `${mark}: ${v.name} — ${v.figures}`;
}

function reasons(all: Row[]): string[] {
  return all
    .filter((r) => Object.keys(r.reasons).length > 0)
    .map((r) => `- ${r.scenario} / ${r.target}: ${Object.entries(r.reasons).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
}

const mb = (x: number | undefined) => fmt(x, 0, ' MB');

/** The proxy's memory around the long streams, as measured (no analysis). */
export function renderMemory(m: LongMemory): string[] {
  const sample = (s: LongMemory['before']) => `VmRSS ${mb(s.rssMb)} (anonymous ${mb(s.anonMb)}, file-backed ${mb(s.fileMb)})`;
  const heap = (h: LongMemory['heapBefore']) =>
    h ? `V8 heap used ${mb(h.heapUsedMb)} of ${mb(h.heapTotalMb)}, external ${mb(h.externalMb)} (array buffers ${mb(h.arrayBuffersMb)})` : '';
  const kb = (before: number, after: number) => fmt(((after - before) * 1024) / m.streams, 0, ' KB');
  const { heapBefore: hb, heapOpen: ho } = m;
  return [
    `- Process: the proxy that served ${m.servedBefore.length ? m.servedBefore.join(', ') : 'nothing but its warm-up'} before the ${m.streams.toLocaleString('en-US')} long streams opened`,
    `- Before: ${sample(m.before)}${hb ? `; ${heap(hb)}` : ''}`,
    `- Peak while open: ${sample(m.peak)}`,
    ...(ho ? [`- Once every stream had its first byte: ${heap(ho)}`] : []),
    `- Per stream: (peak − before) / ${m.streams.toLocaleString('en-US')} = ${fmt(m.perStreamKb, 0)} KB of VmRSS, of which anonymous ${kb(m.before.anonMb, m.peak.anonMb)}` +
      (hb && ho ? `; V8 heap used ${kb(hb.heapUsedMb, ho.heapUsedMb)}, external ${kb(hb.externalMb, ho.externalMb)} (every stream open against before)` : ''),
  ];
}

export function renderResults(info: RunInfo, all: Row[], verdicts: TargetVerdict[], method: string, memory?: LongMemory): string {
  const failures = reasons(all);
  return [
    '# Benchmark results',
    '',
    info.quick ? '**Quick run (`--quick`): smoke figures only, not for comparison.**\n' : '',
    `- Date: ${info.date}`,
    `- Machine: ${info.cpuModel}, ${info.cores} cores, Node ${info.node}`,
    `- Machine load: 1-minute load average ${info.loadBefore.toFixed(2)} before and ${info.loadAfter.toFixed(2)} after the run; all cores ${info.machineBusyPercent.toFixed(0)} % busy during it (the benchmark and whatever else ran on the machine)`,
    `- Proxy source: ${info.source}`,
    `- Database: ${info.database}`,
    `- Command: \`${info.command}\``,
    '',
    '## Results',
    '',
    renderTable(all),
    '',
    '## Targets',
    '',
    ...verdicts.map((v) => `- ${renderVerdict(v)}`),
    '',
    ...(memory ? ['## Memory of the long streams', '', ...renderMemory(memory), ''] : []),
    ...(failures.length ? ['## Failed requests by reason', '', ...failures, ''] : []),
    ...(info.notes.length ? ['## Notes', '', ...info.notes.map((n) => `- ${n}`), ''] : []),
    '## Method',
    '',
    method,
    '',
  ].join('\n');
}

/** A gateway row against the floor and against direct, for the console. */
function ratios(r: Row): string {
  const share = (x: number | undefined) => (x === undefined ? '–' : fmt(x * 100, 0, '%'));
  return `${share(r.ofFloor)} of floor (${share(r.ofDirect)} of direct), TTFB ${signed(r.addedTtfbP50OverFloor)} ms over floor p50 / ${signed(r.addedTtfbP99OverFloor)} p99`;
}

/** Every gateway row (proxy, Portkey) against the floor and direct, one console line each. */
export function ratioLines(all: Row[]): string[] {
  // Long streams have neither direct nor floor to be related to.
  return all.filter((r) => (r.target === 'proxy' || r.target === 'portkey') && (r.ofFloor !== undefined || r.ofDirect !== undefined)).map((r) => `${r.scenario.padEnd(16)} ${r.target.padEnd(8)} ${ratios(r)}`);
}

/** One line for the console. */
export function summaryLine(all: Row[], verdicts: TargetVerdict[]): string {
  const measured = verdicts.filter((v) => v.met !== undefined);
  const met = measured.filter((v) => v.met).length;
  const proxy = (id: string) => all.find((r) => r.scenario === id && r.target === 'proxy');
  const parts: string[] = [];
  for (const id of ['stream-c1', 'stream-c50', 'stream-c200', 'stream-c1000']) {
    const r = proxy(id);
    if (r) parts.push(`${id} ${ratios(r)}`);
  }
  const json = proxy('json-c50');
  if (json) parts.push(`json-c50 ${ratios(json)}`);
  for (const id of ['bedrock-invoke', 'bedrock-converse']) {
    const r = proxy(id);
    if (r) parts.push(`${id} TTFB ${signed(r.addedTtfbP50)} ms over direct, ${fmt(r.cpuUsPerRequest, 0)} µs CPU/req`);
  }
  const long = proxy('long-c1000');
  if (long) parts.push(`long-c1000 ${long.errors + long.incomplete} failed, peak RSS ${fmt(long.peakRssMb, 0)} MB`);
  return `bench: targets met ${met}/${measured.length}; ${parts.join('; ')}`;
}
