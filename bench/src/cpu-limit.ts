/**
 * Half a core for the proxy in the sizing run, as the seed's 0.5 vCPU task gives it. In order of
 * preference: a cgroup v1 cpu group (cfs quota 50 ms per 100 ms), a cgroup v2 child group
 * (`cpu.max` "50000 100000"), `systemd-run --scope -p CPUQuota=50%`, and last one core pinned with
 * `taskset`, whose figures are then scaled by 0.5. A group made here is removed at the end, on
 * failure and on Ctrl-C (what is still in it is moved back to its parent first).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type CpuLimitMethod = 'cgroup v1' | 'cgroup v2' | 'systemd-run' | 'taskset';

export interface CpuLimit {
  method: CpuLimitMethod;
  describe: string;
  /** What a measured capacity is multiplied by: 0.5 with taskset (one whole core measured), else 1. */
  scale: number;
  /** A command the proxy is started through (systemd-run, taskset), which then execs it under the limit. */
  launcher: string[] | undefined;
  /** Puts a running process under the limit (the cgroup methods; a no-op for the launchers). */
  apply(pid: number): void;
  /** Removes the group made here, if any. Synchronous, so it can run as the process exits; safe to call twice. */
  release(): void;
}

const QUOTA_US = 50_000;
const PERIOD_US = 100_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A cgroup directory of ours: apply writes the pid to cgroup.procs; release empties it into `parent` and removes it. */
function cgroup(method: 'cgroup v1' | 'cgroup v2', dir: string, parent: string, describe: string): CpuLimit {
  let released = false;
  return {
    method,
    describe,
    scale: 1,
    launcher: undefined,
    apply(pid) {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    },
    release() {
      if (released) return;
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const left = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
          for (const pid of left) {
            try {
              fs.writeFileSync(path.join(parent, 'cgroup.procs'), pid);
            } catch {
              /* exited meanwhile */
            }
          }
          fs.rmdirSync(dir);
          released = true;
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            released = true;
            return;
          }
          // EBUSY: a process on its way out is still counted in the group for a moment.
          sleepSync(20);
        }
      }
      process.stderr.write(`bench: could not remove the cgroup ${dir}; remove it with: rmdir ${dir}\n`);
    },
  };
}

function tryCgroupV1(name: string): CpuLimit | undefined {
  const root = '/sys/fs/cgroup/cpu';
  if (!fs.existsSync(path.join(root, 'cpu.cfs_quota_us'))) return undefined;
  const dir = path.join(root, name);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(QUOTA_US));
  } catch {
    fs.rmSync(dir, { recursive: false, force: true });
    return undefined;
  }
  return cgroup('cgroup v1', dir, root, `cgroup v1 ${dir}: cpu.cfs_quota_us=${QUOTA_US}, cpu.cfs_period_us=${PERIOD_US}`);
}

function tryCgroupV2(name: string): CpuLimit | undefined {
  const root = '/sys/fs/cgroup';
  try {
    if (!fs.readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return undefined;
    const subtree = fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8');
    if (!subtree.split(/\s+/).includes('cpu')) fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
  } catch {
    return undefined;
  }
  const dir = path.join(root, name);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'cpu.max'), `${QUOTA_US} ${PERIOD_US}`);
  } catch {
    try {
      fs.rmdirSync(dir);
    } catch {
      /* never made */
    }
    return undefined;
  }
  return cgroup('cgroup v2', dir, root, `cgroup v2 ${dir}: cpu.max "${QUOTA_US} ${PERIOD_US}"`);
}

function trySystemdRun(): CpuLimit | undefined {
  const launcher = ['systemd-run', '--scope', '--quiet', '-p', 'CPUQuota=50%', '--'];
  try {
    execFileSync(launcher[0]!, [...launcher.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return undefined;
  }
  return { method: 'systemd-run', describe: `\`${launcher.join(' ')}\``, scale: 1, launcher, apply: () => undefined, release: () => undefined };
}

function taskset(): CpuLimit {
  const core = os.cpus().length - 1;
  return {
    method: 'taskset',
    describe: `no CPU quota available: the proxy pinned to core ${core} with \`taskset -c ${core}\` (one whole core), figures scaled by 0.5`,
    scale: 0.5,
    launcher: ['taskset', '-c', String(core)],
    apply: () => undefined,
    release: () => undefined,
  };
}

export function prepareCpuLimit(): CpuLimit {
  const name = `ccproxy-bench-${process.pid}`;
  return tryCgroupV1(name) ?? tryCgroupV2(name) ?? trySystemdRun() ?? taskset();
}

