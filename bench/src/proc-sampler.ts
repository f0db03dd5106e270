/**
 * CPU and memory of processes while a scenario runs, read from /proc: CPU is utime+stime from
 * /proc/<pid>/stat between start() and stop(); memory is the highest VmRSS of
 * /proc/<pid>/status seen by sampling every 100 ms.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ProcUsage {
  /** CPU time used in the interval, in ms. */
  cpuMs: number;
  /** cpuMs over the wall time, in % of one core. */
  cpuPercent: number;
  peakRssMb: number;
}

/** utime+stime in ms, or NaN when the process is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** VmRSS in MB, or NaN when the process is gone. */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export class ProcSampler {
  readonly #pids: ReadonlyMap<string, number>;
  #startedAt = 0;
  #cpuAtStart = new Map<string, number>();
  #peak = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #machineAtStart = { busy: 0, total: 0 };
  /** Share of all cores busy between start() and stop(), whoever used them (set by stop()). */
  machineBusyPercent = NaN;

  constructor(pids: ReadonlyMap<string, number>) {
    this.#pids = pids;
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#machineAtStart = machineCpu();
    for (const [name, pid] of this.#pids) {
      this.#cpuAtStart.set(name, cpuMs(pid));
      this.#peak.set(name, rssMb(pid));
    }
    this.#timer = setInterval(() => this.#sampleRss(), 100);
  }

  #sampleRss(): void {
    for (const [name, pid] of this.#pids) {
      const rss = rssMb(pid);
      if (rss > (this.#peak.get(name) ?? 0)) this.#peak.set(name, rss);
    }
  }

  stop(): Map<string, ProcUsage> {
    clearInterval(this.#timer);
    this.#sampleRss();
    const wallMs = performance.now() - this.#startedAt;
    const machine = machineCpu();
    this.machineBusyPercent = (100 * (machine.busy - this.#machineAtStart.busy)) / (machine.total - this.#machineAtStart.total);
    const out = new Map<string, ProcUsage>();
    for (const [name, pid] of this.#pids) {
      const used = cpuMs(pid) - (this.#cpuAtStart.get(name) ?? NaN);
      out.set(name, { cpuMs: used, cpuPercent: (used / wallMs) * 100, peakRssMb: this.#peak.get(name) ?? NaN });
    }
    return out;
  }
}

/** Busy and total CPU time of the whole machine so far (jiffies of every core, /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

/** VmRSS and its parts (RssAnon; RssFile + RssShmem) in MB, NaN when the process is gone. */
export function memoryOf(pid: number): { rssMb: number; anonMb: number; fileMb: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: (kb('RssFile') + kb('RssShmem')) / 1024 };
  } catch {
    return { rssMb: NaN, anonMb: NaN, fileMb: NaN };
  }
}

/** The sample with the highest VmRSS of one process, polled every 100 ms until stop(). */
export class PeakMemory {
  readonly #pid: number;
  #peak: ReturnType<typeof memoryOf>;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number) {
    this.#pid = pid;
    this.#peak = memoryOf(pid);
    this.#timer = setInterval(() => this.#sample(), 100);
  }

  #sample(): void {
    const now = memoryOf(this.#pid);
    if (now.rssMb > this.#peak.rssMb || Number.isNaN(this.#peak.rssMb)) this.#peak = now;
  }

  stop(): ReturnType<typeof memoryOf> {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peak;
  }
}
