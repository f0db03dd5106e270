/**
 * Every process the benchmark starts, so that all of them are ended when it finishes, fails or
 * is interrupted (Ctrl-C): a SIGTERM (or the child's own stop signal), then SIGKILL after 5 s.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { request } from 'undici';

interface Tracked {
  name: string;
  child: ChildProcess;
  stopSignal: NodeJS.Signals;
}

const running = new Set<Tracked>();
let niceness = 0;

/**
 * Scheduling priority for every child from now on (and this process): on a machine shared with
 * other work, a negative value keeps that work from taking the CPU the measured processes need.
 * Returns false when the system refused (it takes root or CAP_SYS_NICE).
 */
export function setPriorityOfChildren(value: number): boolean {
  niceness = value;
  try {
    os.setPriority(value);
    return true;
  } catch {
    niceness = 0;
    return false;
  }
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** File receiving stdout and stderr (default: ignored). */
  logFile?: string;
  /** An IPC channel (for the load generator). */
  ipc?: boolean;
  /** Pipe stdout to the parent (to read a port from it). */
  pipeStdout?: boolean;
  /** Signal for a graceful stop (the proxy drains at once on SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const log = options.logFile ? fs.openSync(options.logFile, 'w') : 'ignore';
  const stdio: StdioOptions = [
    'ignore',
    options.pipeStdout ? 'pipe' : log,
    log,
    ...(options.ipc ? (['ipc'] as const) : []),
  ];
  const child = spawn(command, args, { stdio, env: { ...process.env, ...options.env } });
  if (typeof log === 'number') fs.closeSync(log);
  if (niceness !== 0 && child.pid) os.setPriority(child.pid, niceness);
  const tracked: Tracked = { name, child, stopSignal: options.stopSignal ?? 'SIGTERM' };
  running.add(tracked);
  child.once('exit', () => running.delete(tracked));
  return child;
}

function stop(tracked: Tracked): Promise<void> {
  const { child } = tracked;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(tracked.stopSignal);
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  for (const tracked of running) if (tracked.child === child) await stop(tracked);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stop));
}

let stopping = false;
const cleanups: Array<() => void> = [];

/**
 * Something to undo as the runner exits, however it exits (a cgroup made for the sizing run):
 * synchronous, run after every child was sent SIGKILL.
 */
export function onExitCleanup(cleanup: () => void): void {
  cleanups.push(cleanup);
}

/** True once Ctrl-C (or SIGTERM, or a crash) started stopping everything: failures from here on are expected. */
export function interrupted(): boolean {
  return stopping;
}

/** Ends every child on Ctrl-C, SIGTERM or an unexpected crash of the runner. */
export function stopAllOnExit(): void {
  const bail = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nbench: ${why}; stopping child processes\n`);
    void stopAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  process.on('uncaughtException', (err) => {
    // Once stopping, children going away make pending work fail: expected, not worth a stack.
    if (!stopping) process.stderr.write(`${err.stack ?? String(err)}\n`);
    bail('crashed', 1);
  });
  // Last resort when the runner exits without the above (process.exit elsewhere): no orphans.
  process.on('exit', () => {
    for (const { child } of running) child.kill('SIGKILL');
    for (const cleanup of cleanups) cleanup();
  });
}

/** Resolves with the first line the child prints on stdout. */
export function firstLine(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('no output from child in time')), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\n');
      if (end !== -1) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing its port`));
    });
  });
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that cannot report port 0 back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, or fails after `timeoutMs` or when `child` exits first. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000, method: 'GET' | 'POST' = 'GET'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}) before answering`);
    try {
      const res = await request(url, { method, headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
