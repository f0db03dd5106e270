/**
 * `npm run bench -- --sizing [--quick]`: how much one proxy task of the seed's size (0.5 vCPU,
 * 1 GiB) serves. The proxy runs held to half a core (src/cpu-limit.ts); Plan and Bedrock streams
 * are stepped up in closed-loop concurrency until the p99 TTFB it adds passes 50 ms, then long
 * streams are held open in steps while a c=1 probe measures TTFB. Writes bench/results/sizing.md
 * and sizing.json (figures in src/sizing-results.ts). A full run takes about 5 minutes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstLine, onExitCleanup, setPriorityOfChildren, spawnChild, stopAll, stopAllOnExit } from './children.ts';
import { prepareCpuLimit } from './cpu-limit.ts';
import type { LoadResult, LoadSpec } from './load-protocol.ts';
import { Loadgen } from './loadgen-client.ts';
import { PeakMemory, ProcSampler } from './proc-sampler.ts';
import { BENCH_DIR, buildProxy, sourceVersion } from './proxy-build.ts';
import { prepareDatabase, provision, startProxy } from './proxy-process.ts';
import { specFor, warmUp, type Endpoints } from './requests.ts';
import { lockRun } from './run-lock.ts';
import type { Scenario } from './scenarios.ts';
import { answers, concurrencySteps, longStepFailure, longStreamSteps, renderSizing, stepFailure, type LongStep, type SizingReport, type Step } from './sizing-results.ts';
import { mergeLoad } from './results.ts';
import { summarise } from './stats.ts';

export interface SizingOptions {
  quick: boolean;
  nice: number;
  log: (line: string) => void;
}

const RESULTS_DIR = path.join(BENCH_DIR, 'results');
/**
 * MAX_UPSTREAM_REQUESTS for the sizing proxy. Its default (1,000) answers 529 to the 1,001st
 * concurrent call, which would end the long-stream steps at the setting rather than at what the
 * task holds; the report says so.
 */
const UPSTREAM_CAP = 100_000;

function scenario(kind: Scenario['kind'], concurrency: number, mode: Scenario['mode'] = 'closed', graceMs = 5_000): Scenario {
  return { id: `sizing-${kind}-c${concurrency}`, title: 'sizing', kind, concurrency, targets: ['direct', 'proxy'], warmupMs: 0, durationMs: 0, graceMs, mode };
}

export async function runSizing({ quick, nice, log }: SizingOptions): Promise<void> {
  stopAllOnExit();
  await lockRun(log);
  const notes: string[] = [
    `The proxy ran with MAX_UPSTREAM_REQUESTS=${UPSTREAM_CAP} (default 1,000, beyond which a request is answered 529 at once), so the long-stream steps find what the task holds rather than the setting; with the default, a task holds at most 1,000 concurrent upstream calls.`,
  ];
  if (nice !== 0 && !setPriorityOfChildren(nice)) notes.push(`Could not raise the benchmark's scheduling priority (nice ${nice}).`);
  const limit = prepareCpuLimit();
  onExitCleanup(() => limit.release());
  log(`bench --sizing${quick ? ' (quick)' : ''}: CPU limit by ${limit.describe}`);

  const t = (full: number, fast: number) => (quick ? fast : full);
  const warmupMs = t(1_000, 400);
  const windowMs = t(3_000, 1_000);
  const longSeconds = t(20, 8);
  const probeMs = t(4_000, 1_500);

  const mainJs = buildProxy();
  const source = sourceVersion();
  const database = await prepareDatabase();
  const upstreamChild = spawnChild('fake upstream', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'src/fake-upstream.ts')], {
    pipeStdout: true,
    env: { BENCH_LONG_DELTAS: String(longSeconds) },
  });
  const { port } = JSON.parse(await firstLine(upstreamChild)) as { port: number };
  const at: Endpoints = { upstream: `http://127.0.0.1:${port}`, floor: undefined, proxies: new Map(), portkey: undefined, keys: undefined };
  const loadgen = new Loadgen(path.join(RESULTS_DIR, 'loadgen.log'));
  await loadgen.ready;

  const proxy = await startProxy({
    mainJs,
    database,
    upstream: at.upstream,
    bedrockApi: 'invoke',
    logFile: path.join(RESULTS_DIR, 'proxy-sizing.log'),
    profileDir: undefined,
    launcher: limit.launcher,
    env: { MAX_UPSTREAM_REQUESTS: String(UPSTREAM_CAP) },
  });
  const pid = proxy.child.pid!;
  limit.apply(pid);
  at.proxies.set('invoke', proxy);
  at.keys = await provision(proxy.url);
  await warmUp(loadgen, 'proxy', at, t(2_000, 500), proxy);
  log(`bench --sizing: proxy pid ${pid} under the limit, warmed up; database: ${database.describe}`);

  /** One closed-loop run; the proxy's CPU over its window when `gatewayPid` is given. */
  const measure = async (spec: LoadSpec, gatewayPid?: number): Promise<{ load: LoadResult; cpuPercent: number }> => {
    const sampler = gatewayPid ? new ProcSampler(new Map([['proxy', gatewayPid]])) : undefined;
    let cpuPercent = NaN;
    const load = await loadgen.run(spec, (phase) => {
      if (phase === 'start') sampler?.start();
      else if (phase === 'end' && sampler) cpuPercent = sampler.stop().get('proxy')!.cpuPercent;
    });
    return { load, cpuPercent };
  };

  const stepUp = async (kind: 'stream' | 'bedrock-invoke', label: string): Promise<Step[]> => {
    const steps: Step[] = [];
    for (const c of concurrencySteps(quick)) {
      const s = scenario(kind, c);
      const direct = await measure(specFor(s, 'direct', at, t(500, 300), windowMs * 0.6));
      const viaProxy = await measure(specFor(s, 'proxy', at, warmupMs, windowMs), pid);
      const ttfb = summarise(viaProxy.load.ttfbs);
      const step: Step = {
        concurrency: c,
        rps: (viaProxy.load.completedInWindow / viaProxy.load.windowMs) * 1000,
        ttfbP50: ttfb.p50,
        ttfbP99: ttfb.p99,
        directTtfbP99: summarise(direct.load.ttfbs).p99,
        errors: viaProxy.load.errors,
        incomplete: viaProxy.load.incomplete,
        reasons: viaProxy.load.reasons,
        cpuPercent: viaProxy.cpuPercent,
      };
      steps.push(step);
      const failure = stepFailure(step);
      log(`  ${label.padEnd(8)} c=${String(c).padEnd(4)} ${step.rps.toFixed(0).padStart(5)} req/s  TTFB p99 ${step.ttfbP99.toFixed(1)} ms (direct ${step.directTtfbP99.toFixed(1)})  CPU ${step.cpuPercent.toFixed(0)} %  ${failure ?? 'within'}`);
      if (failure) break;
    }
    return steps;
  };

  const plan = await stepUp('stream', 'Plan');
  const bedrock = await stepUp('bedrock-invoke', 'Bedrock');

  // Long streams: the probe's own TTFB with nothing open, then with N streams held open through the proxy.
  const probe = scenario('stream', 1);
  const directProbe = await measure(specFor(probe, 'direct', at, 300, probeMs));
  const directProbeTtfbP99 = summarise(directProbe.load.ttfbs).p99;
  const long: LongStep[] = [];
  for (const n of longStreamSteps(quick)) {
    const open = scenario('long', n, 'once', (longSeconds + 30) * 1000);
    const peak = new PeakMemory(pid);
    let markOpened: () => void = () => undefined;
    // Streams last longSeconds: the probe needs the time that is left after they opened.
    const openWaitMs = (longSeconds * 1000 - probeMs) * 0.7;
    const opened = new Promise<boolean>((resolve) => {
      markOpened = () => resolve(true);
      setTimeout(() => resolve(false), openWaitMs).unref();
    });
    const streams = loadgen.run(specFor(open, 'proxy', at, 0, 0), (phase) => phase === 'opened' && markOpened());
    // Awaited below; until then a failure (Ctrl-C stops the load generator) must not count as unhandled.
    streams.catch(() => undefined);
    const allOpen = await opened;
    const measured = await measure(specFor(probe, 'proxy', at, 300, probeMs), pid);
    const result = await streams;
    const ttfb = summarise(measured.load.ttfbs);
    const step: LongStep = {
      streams: n,
      opened: allOpen,
      openedInTime: allOpen ? n : result.ttfbs.filter((ms) => ms <= openWaitMs).length,
      openWaitMs,
      probeTtfbP50: ttfb.p50,
      probeTtfbP99: ttfb.p99,
      directProbeTtfbP99,
      errors: result.errors + measured.load.errors,
      incomplete: result.incomplete + measured.load.incomplete,
      reasons: mergeLoad(result, measured.load).reasons,
      peakRssMb: peak.stop().rssMb,
      cpuPercent: measured.cpuPercent,
    };
    long.push(step);
    const failure = longStepFailure(step);
    log(`  long     N=${String(n).padEnd(5)} probe TTFB p99 ${step.probeTtfbP99.toFixed(1)} ms (direct ${directProbeTtfbP99.toFixed(1)})  peak RSS ${step.peakRssMb.toFixed(0)} MB  CPU ${step.cpuPercent.toFixed(0)} %  ${failure ?? 'within'}`);
    if (failure) break;
  }

  await stopAll();
  limit.release();
  if (database.kind === 'pglite') notes.push(`${database.describe}; PGlite runs inside the proxy process, so its CPU counts against the proxy's half core.`);
  const report: SizingReport = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}, 1-minute load average ${os.loadavg()[0]!.toFixed(2)} at the end`,
    source,
    database: database.describe,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    quick,
    cpuLimit: limit.describe,
    scale: limit.scale,
    plan,
    bedrock,
    longSeconds,
    long,
    notes,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'sizing.md'), renderSizing(report));
  fs.writeFileSync(path.join(RESULTS_DIR, 'sizing.json'), JSON.stringify({ ...report, answers: answers(report) }, null, 2));
  for (const a of answers(report)) {
    log(`bench --sizing: ${a.path}: ${a.capacity.requestsPerSecond.toFixed(0)} req/s, ${a.capacity.openStreams.toFixed(0)} open streams → ${a.developers.developers} developers per task (limited by ${a.developers.limitedBy})`);
  }
  log('bench --sizing: wrote bench/results/sizing.md and sizing.json');
}
