/**
 * `npm run bench [-- --quick] [-- --only <id>[,<id>…]] [-- --profile]`
 *
 * Starts a fake upstream, a load generator, the proxy (built as production runs it) and Portkey as
 * separate processes on 127.0.0.1, runs each scenario against the upstream directly, through the
 * proxy and through Portkey side by side, and writes bench/RESULTS.md (a full run) or
 * bench/results/latest.md (`--quick` / `--only`). Every child process is stopped at the end, on
 * failure and on Ctrl-C.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { firstLine, interrupted, setPriorityOfChildren, spawnChild, stopAll, stopAllOnExit } from './children.ts';
import type { FromLoadgen, LoadResult, LoadSpec, ToLoadgen } from './load-protocol.ts';
import { startPortkey } from './portkey-process.ts';
import { machineCpu, ProcSampler, type ProcUsage } from './proc-sampler.ts';
import { BENCH_DIR, buildProxy } from './proxy-build.ts';
import { prepareDatabase, provision, startProxy, stopProxy, type BenchKeys, type RunningProxy } from './proxy-process.ts';
import { renderResults, renderVerdict, summaryLine, type RunInfo } from './report.ts';
import { emptyLoad, mergeLoad, mergeProc, rows, type Row, type ScenarioRun, type TargetRun } from './results.ts';
import { longDeltas, scenarios, selectScenarios, type Scenario, type TargetName } from './scenarios.ts';
import { lockRun } from './run-lock.ts';
import { evaluateTargets } from './targets.ts';
import { MODEL } from './upstream-bytes.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    nice: { type: 'string', default: '-5' },
  },
});
const quick = args.quick ?? false;
const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
const selected = selectScenarios(scenarios(quick), only);
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const PROFILE_DIR = args.profile ? path.join(BENCH_DIR, 'profiles') : undefined;
fs.mkdirSync(RESULTS_DIR, { recursive: true });

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

// ---- the load generator, over IPC ----------------------------------------------------------

class Loadgen {
  readonly child: ChildProcess;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void; onWindow: (phase: 'start' | 'end') => void }>();
  readonly ready: Promise<void>;

  constructor() {
    this.child = spawnChild('load generator', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'src/loadgen.ts')], {
      ipc: true,
      logFile: path.join(RESULTS_DIR, 'loadgen.log'),
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: FromLoadgen) => {
        if (message.type === 'ready') return resolve();
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        if (message.type === 'window') pending.onWindow(message.phase);
        else if (message.type === 'result') {
          this.#pending.delete(message.id);
          pending.resolve(message.result);
        } else {
          this.#pending.delete(message.id);
          pending.reject(new Error(`load generator: ${message.message}`));
        }
      });
      this.child.once('exit', (code) => {
        const err = new Error(`load generator exited (${code})`);
        reject(err);
        for (const p of this.#pending.values()) p.reject(err);
      });
    });
  }

  run(spec: LoadSpec, onWindow: (phase: 'start' | 'end') => void): Promise<LoadResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onWindow });
      this.child.send({ type: 'run', id, spec } satisfies ToLoadgen);
    });
  }
}

// ---- requests per target -------------------------------------------------------------------

interface Endpoints {
  upstream: string;
  /** The proxy per BEDROCK_API: both at once on PostgreSQL; on PGlite (one process per database) one at a time. */
  proxies: Map<BedrockApi, RunningProxy>;
  portkey: string | undefined;
  keys: BenchKeys | undefined;
}

type BedrockApi = RunningProxy['bedrockApi'];

/** The proxy a scenario goes through: its Bedrock API for the Bedrock scenarios, else the invoke one (any would do). */
function apiOf(scenario: Pick<Scenario, 'kind'>): BedrockApi {
  return scenario.kind === 'bedrock-converse' ? 'converse' : 'invoke';
}

const ANTHROPIC_HEADERS = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-bench-0000', 'anthropic-version': '2023-06-01' };
const messagesBody = (stream: boolean) =>
  JSON.stringify({ model: MODEL, max_tokens: 1024, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'Say hello in twenty words.' }] });
const BEDROCK_MODEL = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');

function specFor(scenario: Scenario, target: TargetName, at: Endpoints, warmupMs: number, durationMs: number, proxy = at.proxies.get(apiOf(scenario))): LoadSpec {
  const base = { concurrency: scenario.concurrency, mode: scenario.mode, warmupMs, durationMs, graceMs: scenario.graceMs };
  const stream = scenario.kind !== 'json';
  const viaProxy = (key: string, query = '') => {
    if (!proxy) throw new Error('the proxy is not running');
    return { origin: proxy.url, path: `/ak/${key}/v1/messages${query}`, headers: ANTHROPIC_HEADERS, body: messagesBody(true), check: 'sse' as const };
  };
  if (scenario.kind === 'bedrock-invoke' || scenario.kind === 'bedrock-converse') {
    if (target === 'proxy') return { ...base, ...viaProxy(at.keys!.bedrock) };
    const invoke = scenario.kind === 'bedrock-invoke';
    return {
      ...base,
      origin: at.upstream,
      path: `/model/${BEDROCK_MODEL}/${invoke ? 'invoke-with-response-stream' : 'converse-stream'}`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ABSK-bench' },
      body: invoke
        ? JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1024, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] })
        : JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Say hello in twenty words.' }] }], inferenceConfig: { maxTokens: 1024 } }),
      // Event-stream frames carry base64 payloads: judged whole by a 200 that ended.
      check: 'body',
    };
  }
  if (scenario.kind === 'long') return { ...base, ...viaProxy(at.keys!.plan, '?bench=long') };
  const check = stream ? ('sse' as const) : ('body' as const);
  const body = messagesBody(stream);
  switch (target) {
    case 'direct':
      return { ...base, origin: at.upstream, path: '/v1/messages', headers: ANTHROPIC_HEADERS, body, check };
    case 'proxy':
      return { ...base, ...viaProxy(at.keys!.plan), body, check };
    case 'portkey':
      if (!at.portkey) throw new Error('Portkey is not running');
      return {
        ...base,
        origin: at.portkey,
        path: '/v1/messages',
        headers: { ...ANTHROPIC_HEADERS, 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `${at.upstream}/v1` },
        body,
        check,
      };
  }
}

/**
 * Unrecorded traffic through a freshly started gateway (streaming, non-streaming and, for the
 * proxy, its Bedrock path), so the first scenario does not pay for JIT compilation and caches.
 */
async function warmUp(loadgen: Loadgen, target: 'proxy' | 'portkey', at: Endpoints, proxy?: RunningProxy): Promise<void> {
  const kinds: Scenario['kind'][] = proxy ? ['stream', 'json', proxy.bedrockApi === 'converse' ? 'bedrock-converse' : 'bedrock-invoke'] : ['stream', 'json'];
  for (const kind of kinds) {
    const scenario: Scenario = { id: `warm-up-${kind}`, title: 'warm-up', kind, concurrency: 20, targets: [target], warmupMs: 0, durationMs: 0, graceMs: 5_000, mode: 'closed' };
    await loadgen.run(specFor(scenario, target, at, 0, quick ? 500 : 1_500, proxy), () => undefined);
  }
}

/** The commit measured, and whether backend/src had uncommitted changes (they are measured too). */
function sourceVersion(): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', '../backend/src').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed ? ` with ${changed} uncommitted file(s) in backend/src` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

// ---- main ----------------------------------------------------------------------------------

const METHOD = `Processes, all on 127.0.0.1: the runner (this script), a load generator (undici Pool, one keep-alive
connection per concurrent request, raw dispatch handlers), one fake upstream process (Anthropic SSE and JSON,
Bedrock invoke-with-response-stream and converse-stream in AWS event-stream framing, all bytes precomputed; a stream
is message_start + content_block_start + ping at once, then 20 text deltas 5 ms apart, the last one with
content_block_stop, message_delta and message_stop), the proxy (backend/src compiled to JavaScript and run with
\`node dist/main.js\` as the Docker image does; ENVIRONMENT=staging, LOG_LEVEL=info, METRICS=cloudwatch, stdout to
bench/results/proxy-*.log, usage accounting on; a plan_first user and a bedrock_only user with a Bedrock API key made
through the admin API), and Portkey \`@portkey-ai/gateway\` 1.15.2 (\`node --import bench/src/portkey-preload.mjs\`:
mutable fetch headers on Node 20, bound to 127.0.0.1; \`x-portkey-provider: anthropic\`,
\`x-portkey-custom-host: <fake>/v1\`).

Closed loop: each of c workers sends its next request when the previous one ended. Each scenario's recorded time per
target is split into two segments run in the order direct, proxy, Portkey, Portkey, proxy, direct (the A B C C B A
order cancels a drift of machine load), each after its own unrecorded warm-up on fresh connections (and each gateway got a few seconds of
streaming, non-streaming and Bedrock traffic right after it started). req/s counts good
responses that ended inside the recorded window; latency is request start to last byte, TTFB request start to first
body byte; "added TTFB" is the p50 minus direct's p50 in the same scenario. An error is a non-200 answer or a transport
failure (warm-up included); an incomplete stream is a 200 without message_stop (or an \`error\` event). gateway CPU is
utime+stime of the gateway process over the window (% of one core), peak RSS the highest VmRSS sampled every 100 ms;
"upstream / loadgen CPU" shows the fake upstream and load generator were not saturated; "machine busy" is the share
of both cores busy during the target's windows, whoever used them: near 100 % the machine set the pace (a gateway
CPU well under 100 % with a long latency then means the gateway waited for a core). The Bedrock scenarios use
the bedrock_only user (every request takes the Bedrock path the fallback takes) through two proxy processes on the
same database, one with BEDROCK_API=invoke and one with BEDROCK_API=converse, their segments interleaved (invoke
direct, invoke proxy, converse direct, converse proxy, then in reverse; on PGlite, which one process holds, the proxy
is restarted between the two instead); direct there means the same Bedrock operation called without the proxy.
Long streams: 1,000 requests at once, each a delta a second; "max gap" is the longest pause between two chunks of
any stream.`;

async function main(): Promise<void> {
  stopAllOnExit();
  await lockRun(log);
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = machineCpu();
  const started = Date.now();
  const needs = (t: TargetName) => selected.some((s) => s.targets.includes(t));
  const notes: string[] = [];
  const nice = Number(args.nice);
  if (nice !== 0) {
    notes.push(
      setPriorityOfChildren(nice)
        ? `The benchmark's processes ran at nice ${nice} (other work on the machine at 0), so that other work weighs less on the figures; \`--nice 0\` turns this off.`
        : `Could not raise the benchmark's scheduling priority (nice ${nice}): other work on the machine weighs on the figures.`,
    );
  }

  log(`bench: ${selected.length} scenario(s)${quick ? ' (quick)' : ''}: ${selected.map((s) => s.id).join(', ')}`);
  const mainJs = buildProxy();
  const source = sourceVersion();
  const database = await prepareDatabase();
  log(`bench: proxy built; database: ${database.describe}`);

  const upstreamChild = spawnChild('fake upstream', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'src/fake-upstream.ts')], {
    pipeStdout: true,
    env: { BENCH_LONG_DELTAS: String(longDeltas(quick)) },
  });
  const { port: upstreamPort } = JSON.parse(await firstLine(upstreamChild)) as { port: number };
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const loadgen = new Loadgen();
  await loadgen.ready;

  const at: Endpoints = { upstream, proxies: new Map(), portkey: undefined, keys: undefined };
  const ensureProxy = async (api: BedrockApi) => {
    if (at.proxies.has(api)) return;
    if (database.kind === 'pglite') {
      for (const other of at.proxies.values()) await stopProxy(other);
      at.proxies.clear();
    }
    const proxy = await startProxy({ mainJs, database, upstream, bedrockApi: api, logFile: path.join(RESULTS_DIR, `proxy-${api}.log`), profileDir: PROFILE_DIR });
    at.proxies.set(api, proxy);
    at.keys ??= await provision(proxy.url);
    await warmUp(loadgen, 'proxy', at, proxy);
    log(`bench: proxy (BEDROCK_API=${api}) on ${proxy.url}, pid ${proxy.child.pid}, warmed up`);
  };
  let portkeyChild: ChildProcess | undefined;
  if (needs('portkey')) {
    const portkey = await startPortkey(path.join(RESULTS_DIR, 'portkey.log'));
    at.portkey = portkey.url;
    portkeyChild = portkey.child;
    await warmUp(loadgen, 'portkey', at);
    log(`bench: Portkey on ${portkey.url}, pid ${portkey.child.pid}, warmed up`);
  }

  // Scenarios of one group run interleaved (segments A B C D D C B A over all their targets), so
  // their comparison (invoke against converse) does not depend on when each ran. On PGlite the
  // two proxies cannot run at once: then the group's scenarios run one after the other.
  const groups: Scenario[][] = [];
  for (const scenario of selected) {
    const last = groups[groups.length - 1];
    const together = last && scenario.group && last[0]!.group === scenario.group && database.kind === 'postgres';
    if (together) last.push(scenario);
    else groups.push([scenario]);
  }

  const results: ScenarioRun[] = [];
  type Merged = { load: LoadResult; gateway: ProcUsage | undefined; upstreamCpu: number[]; loadgenCpu: number[]; machine: number[]; wall: number };
  for (const group of groups) {
    for (const scenario of group) if (scenario.targets.includes('proxy')) await ensureProxy(apiOf(scenario));
    const units = group.flatMap((scenario) => scenario.targets.map((target) => ({ scenario, target })));
    const once = quick || group.some((s) => s.mode === 'once');
    const order = once ? units : [...units, ...[...units].reverse()];
    const segments = once ? 1 : 2;
    const merged = new Map<string, Merged>();
    for (const { scenario, target } of order) {
      const gatewayPid = target === 'proxy' ? at.proxies.get(apiOf(scenario))?.child.pid : target === 'portkey' ? portkeyChild?.pid : undefined;
      const pids = new Map<string, number>([
        ['upstream', upstreamChild.pid!],
        ['loadgen', loadgen.child.pid!],
        ...(gatewayPid ? ([['gateway', gatewayPid]] as const) : []),
      ]);
      const sampler = new ProcSampler(pids);
      let usage: Map<string, ProcUsage> | undefined;
      let windowStart = 0;
      let wall = 0;
      const spec = specFor(scenario, target, at, scenario.warmupMs, scenario.durationMs / segments);
      const load = await loadgen.run(spec, (phase) => {
        if (phase === 'start') {
          windowStart = performance.now();
          sampler.start();
        } else {
          usage = sampler.stop();
          wall = performance.now() - windowStart;
        }
      });
      usage ??= sampler.stop();
      const key = `${scenario.id}/${target}`;
      const previous = merged.get(key) ?? { load: emptyLoad(), gateway: undefined, upstreamCpu: [], loadgenCpu: [], machine: [], wall: 0 };
      merged.set(key, {
        load: mergeLoad(previous.load, load),
        gateway: mergeProc(previous.gateway, usage.get('gateway'), previous.wall, wall),
        upstreamCpu: [...previous.upstreamCpu, usage.get('upstream')!.cpuPercent],
        loadgenCpu: [...previous.loadgenCpu, usage.get('loadgen')!.cpuPercent],
        machine: [...previous.machine, sampler.machineBusyPercent],
        wall: previous.wall + wall,
      });
      const rps = load.windowMs > 0 ? (load.completedInWindow / load.windowMs) * 1000 : 0;
      log(
        `  ${scenario.id.padEnd(16)} ${target.padEnd(8)} ${rps.toFixed(0).padStart(6)} req/s  ` +
          `errors ${load.errors} incomplete ${load.incomplete}  ` +
          `gateway CPU ${usage.get('gateway')?.cpuPercent.toFixed(0) ?? '–'} %  upstream ${usage.get('upstream')!.cpuPercent.toFixed(0)} %  loadgen ${usage.get('loadgen')!.cpuPercent.toFixed(0)} %  machine ${sampler.machineBusyPercent.toFixed(0)} %`,
      );
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const scenario of group) {
      const runs: TargetRun[] = scenario.targets.map((target) => {
        const m = merged.get(`${scenario.id}/${target}`)!;
        return { target, load: m.load, gateway: m.gateway, upstreamCpuPercent: mean(m.upstreamCpu), loadgenCpuPercent: mean(m.loadgenCpu), machineBusyPercent: mean(m.machine) };
      });
      results.push({ id: scenario.id, title: scenario.title, kind: scenario.kind, concurrency: scenario.concurrency, runs });
    }
  }

  await stopAll();
  const cpuAfter = machineCpu();

  const all: Row[] = results.flatMap(rows);
  const verdicts = evaluateTargets(all);
  if (database.kind === 'pglite') notes.push(database.describe);
  notes.push(`Total run time ${((Date.now() - started) / 1000).toFixed(0)} s; scenarios: ${results.map((r) => `${r.id} (${r.title})`).join('; ')}.`);
  const info: RunInfo = {
    date: new Date().toISOString(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    loadBefore,
    loadAfter: os.loadavg()[0]!,
    machineBusyPercent: (100 * (cpuAfter.busy - cpuBefore.busy)) / (cpuAfter.total - cpuBefore.total),
    database: database.describe,
    source,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick,
    notes,
  };
  const markdown = renderResults(info, all, verdicts, METHOD);
  const official = !quick && !only;
  const out = official ? path.join(BENCH_DIR, 'RESULTS.md') : path.join(RESULTS_DIR, 'latest.md');
  fs.writeFileSync(out, markdown);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify({ info, rows: all, verdicts }, null, 2));
  for (const v of verdicts) log(`  ${renderVerdict(v)}`);
  log(`bench: wrote ${path.relative(path.dirname(BENCH_DIR), out)}${PROFILE_DIR ? `; CPU profiles in ${path.relative(path.dirname(BENCH_DIR), PROFILE_DIR)}` : ''}`);
  log(summaryLine(all, verdicts));
}

main().catch(async (err: unknown) => {
  // Interrupted: the children are being stopped, so whatever the run was waiting for failed; say nothing more.
  if (interrupted()) return;
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
