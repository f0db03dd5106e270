/**
 * `npm run bench [-- --quick] [-- --only <id>[,<id>…]] [-- --profile] [-- --sizing]`
 *
 * Starts a fake upstream, a load generator, the floor (a bare passthrough), the proxy (built as
 * production runs it) and Portkey as separate processes on 127.0.0.1, runs each scenario against
 * the upstream directly, through the floor, through the proxy and through Portkey side by side,
 * and writes bench/RESULTS.md (a full run) or bench/results/latest.md (`--quick` / `--only`).
 * `--sizing` runs src/sizing.ts instead. Every child process is stopped at the end, on failure
 * and on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { firstLine, freePort, interrupted, setPriorityOfChildren, spawnChild, stopAll, stopAllOnExit } from './children.ts';
import { startFloor } from './floor-process.ts';
import { heapOf, type HeapFigures } from './inspector-memory.ts';
import type { LoadResult } from './load-protocol.ts';
import { Loadgen } from './loadgen-client.ts';
import { startPortkey } from './portkey-process.ts';
import { machineCpu, memoryOf, PeakMemory, ProcSampler, type ProcUsage } from './proc-sampler.ts';
import { BENCH_DIR, buildProxy, sourceVersion } from './proxy-build.ts';
import { prepareDatabase, provision, startProxy, stopProxy } from './proxy-process.ts';
import { ratioLines, renderResults, renderVerdict, summaryLine, type RunInfo } from './report.ts';
import { apiOf, specFor, warmUp, type BedrockApi, type Endpoints } from './requests.ts';
import { emptyLoad, mergeLoad, mergeProc, perStreamKb, rows, type LongMemory, type Row, type ScenarioRun, type TargetRun } from './results.ts';
import { longDeltas, scenarios, selectScenarios, type Scenario, type TargetName } from './scenarios.ts';
import { lockRun } from './run-lock.ts';
import { runSizing } from './sizing.ts';
import { evaluateTargets } from './targets.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    nice: { type: 'string', default: '-5' },
    sizing: { type: 'boolean', default: false },
    heap: { type: 'boolean', default: false },
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

// ---- main ----------------------------------------------------------------------------------

const METHOD = `Processes, all on 127.0.0.1: the runner (this script), a load generator (undici Pool, one keep-alive
connection per concurrent request, raw dispatch handlers), one fake upstream process (Anthropic SSE and JSON,
Bedrock invoke-with-response-stream and converse-stream in AWS event-stream framing, all bytes precomputed; a stream
is message_start + content_block_start + ping at once, then 20 text deltas 5 ms apart, the last one with
content_block_stop, message_delta and message_stop), the floor (\`src/floor-proxy.ts\`: a \`node:http\` server and one
undici Agent, the undici and pool settings the proxy uses, forwarding method, path, headers and body and streaming the
answer back, with no auth, accounting, logging or parsing: the least any Node proxy can do here), the proxy (backend/src compiled to JavaScript and run with
\`node <the Node flags of backend/Dockerfile's CMD> dist/main.js\` as the Docker image does; ENVIRONMENT=staging, LOG_LEVEL=info, METRICS=cloudwatch, stdout to
bench/results/proxy-*.log, usage accounting on; a plan_first user and a bedrock_only user with a Bedrock API key made
through the admin API), and Portkey \`@portkey-ai/gateway\` 1.15.2 (\`node --import bench/src/portkey-preload.mjs\`:
mutable fetch headers on Node 20, bound to 127.0.0.1; \`x-portkey-provider: anthropic\`,
\`x-portkey-custom-host: <fake>/v1\`).

Closed loop: each of c workers sends its next request when the previous one ended. Each scenario's recorded time per
target is split into two segments run in the order direct, floor, proxy, Portkey, Portkey, proxy, floor, direct (the
A B C C B A order cancels a drift of machine load), each after its own unrecorded warm-up on fresh connections (and each gateway got a few seconds of
streaming, non-streaming and Bedrock traffic right after it started). req/s counts good
responses that ended inside the recorded window; latency is request start to last byte, TTFB request start to first
body byte; "added TTFB" is the p50 minus direct's p50 in the same scenario; "of floor" and "TTFB over floor" relate a
gateway (proxy, Portkey) to the floor in the same scenario (its req/s over the floor's; its p50 and p99 TTFB minus
the floor's), which holds the machine's own speed out of the figure. An error is a non-200 answer or a transport
failure (warm-up included); an incomplete stream is a 200 without message_stop (or an \`error\` event). gateway CPU is
utime+stime of the gateway process over the window (% of one core), peak RSS the highest VmRSS sampled every 100 ms;
"upstream / loadgen CPU" shows the fake upstream and load generator were not saturated; "machine busy" is the share
of both cores busy during the target's windows, whoever used them: near 100 % the machine set the pace (a gateway
CPU well under 100 % with a long latency then means the gateway waited for a core). The Bedrock scenarios use
the bedrock_only user (every request takes the Bedrock path the fallback takes) through two proxy processes on the
same database, one with BEDROCK_API=invoke and one with BEDROCK_API=converse, their segments interleaved (invoke
direct, floor and proxy, converse direct, floor and proxy, then in reverse; on PGlite, which one process holds, the proxy
is restarted between the two instead); direct there means the same Bedrock operation called without the proxy, and the floor
forwards that same operation. Long streams run last, through the proxy process (BEDROCK_API=invoke) that served every
scenario before them (on PGlite the converse scenario runs first, so that process is not restarted): 1,000 requests
at once, each a delta a second; "max gap" is the longest pause between two chunks of any stream. Their memory is
VmRSS of /proc/<pid>/status just before the streams open and the highest sample (every 100 ms) while they are open,
split as that file splits it into RssAnon (V8 heap, buffers, native allocations) and RssFile + RssShmem (code and
mapped files); per stream is (peak − before) / 1,000. With \`--heap\` the proxy also runs with the inspector open on
127.0.0.1 and its process.memoryUsage() (V8 heap used, external, array buffers; no collection forced) is read before
the streams open and once every one has its first byte; without it, how the anonymous part divides between V8 heap,
socket buffers and native state is not in these figures.`;

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
  const loadgen = new Loadgen(path.join(RESULTS_DIR, 'loadgen.log'));
  await loadgen.ready;
  const warmUpMs = quick ? 500 : 1_500;

  const at: Endpoints = { upstream, floor: undefined, proxies: new Map(), portkey: undefined, keys: undefined };
  /** Scenarios each proxy process (by pid) has served, for the memory report. */
  const served = new Map<number, string[]>();
  const ensureProxy = async (api: BedrockApi) => {
    if (at.proxies.has(api)) return;
    if (database.kind === 'pglite') {
      for (const other of at.proxies.values()) await stopProxy(other);
      at.proxies.clear();
    }
    const proxy = await startProxy({
      mainJs,
      database,
      upstream,
      bedrockApi: api,
      logFile: path.join(RESULTS_DIR, `proxy-${api}.log`),
      profileDir: PROFILE_DIR,
      inspectPort: args.heap ? await freePort() : undefined,
    });
    at.proxies.set(api, proxy);
    at.keys ??= await provision(proxy.url);
    await warmUp(loadgen, 'proxy', at, warmUpMs, proxy);
    served.set(proxy.child.pid!, []);
    log(`bench: proxy (BEDROCK_API=${api}) on ${proxy.url}, pid ${proxy.child.pid}, warmed up`);
  };
  let floorChild: ChildProcess | undefined;
  if (needs('floor')) {
    const floor = await startFloor(upstream, path.join(RESULTS_DIR, 'floor.log'));
    at.floor = floor.url;
    floorChild = floor.child;
    await warmUp(loadgen, 'floor', at, warmUpMs);
    log(`bench: floor on ${floor.url}, pid ${floor.child.pid}, warmed up`);
  }
  let portkeyChild: ChildProcess | undefined;
  if (needs('portkey')) {
    const portkey = await startPortkey(path.join(RESULTS_DIR, 'portkey.log'));
    at.portkey = portkey.url;
    portkeyChild = portkey.child;
    await warmUp(loadgen, 'portkey', at, warmUpMs);
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
  // On PGlite only one proxy runs at a time, and the long streams must run in the (invoke) process
  // that served everything else: the scenarios of the converse proxy go first there.
  if (database.kind === 'pglite') groups.sort((a, b) => Number(a.every((s) => apiOf(s) !== 'converse')) - Number(b.every((s) => apiOf(s) !== 'converse')));
  let memory: LongMemory | undefined;

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
      const gatewayPid = target === 'proxy' ? at.proxies.get(apiOf(scenario))?.child.pid : target === 'portkey' ? portkeyChild?.pid : target === 'floor' ? floorChild?.pid : undefined;
      // The long streams: the proxy's memory before they open and at its highest while they are open.
      const long = scenario.kind === 'long' && target === 'proxy' && gatewayPid ? { before: memoryOf(gatewayPid), peak: new PeakMemory(gatewayPid) } : undefined;
      const inspectPort = long ? at.proxies.get(apiOf(scenario))?.inspectPort : undefined;
      const heapBefore = inspectPort ? await heapOf(inspectPort) : undefined;
      let heapOpen: Promise<HeapFigures | undefined> | undefined;
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
        } else if (phase === 'opened') {
          // A figure that could not be read is left out rather than failing the run.
          if (inspectPort) heapOpen = heapOf(inspectPort).catch(() => undefined);
        } else {
          usage = sampler.stop();
          wall = performance.now() - windowStart;
        }
      });
      usage ??= sampler.stop();
      if (long && gatewayPid) {
        const peak = long.peak.stop();
        const servedBefore = served.get(gatewayPid) ?? [];
        memory = {
          streams: scenario.concurrency,
          servedBefore: [...servedBefore],
          before: long.before,
          peak,
          perStreamKb: perStreamKb(long.before, peak, scenario.concurrency),
          heapBefore,
          heapOpen: await heapOpen,
        };
      }
      if (target === 'proxy' && gatewayPid) {
        const list = served.get(gatewayPid);
        if (list && !list.includes(scenario.id)) list.push(scenario.id);
      }
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
  const verdicts = evaluateTargets(all, memory);
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
  const markdown = renderResults(info, all, verdicts, METHOD, memory);
  const official = !quick && !only;
  const out = official ? path.join(BENCH_DIR, 'RESULTS.md') : path.join(RESULTS_DIR, 'latest.md');
  fs.writeFileSync(out, markdown);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify({ info, rows: all, verdicts, memory }, null, 2));
  for (const line of ratioLines(all)) log(`  ${line}`);
  for (const v of verdicts) log(`  ${renderVerdict(v)}`);
  log(`bench: wrote ${path.relative(path.dirname(BENCH_DIR), out)}${PROFILE_DIR ? `; CPU profiles in ${path.relative(path.dirname(BENCH_DIR), PROFILE_DIR)}` : ''}`);
  log(summaryLine(all, verdicts));
}

(args.sizing ? runSizing({ quick, nice: Number(args.nice), log }) : main()).catch(async (err: unknown) => {
  // Interrupted: the children are being stopped, so whatever the run was waiting for failed; say nothing more.
  if (interrupted()) return;
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
