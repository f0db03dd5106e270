import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm start` as a person or a process supervisor runs it: `kill <npm's pid>` and Ctrl-C must reach
// the server, which shuts down gracefully, instead of leaving it running without its parent
// (package.json: each npm script execs the next step, and npm forwards SIGTERM and SIGINT to it).

const root = path.resolve(import.meta.dirname, '../../..');
let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-npm-start-'));
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface NpmStart {
  npm: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` in the repository root, in its own process group (a terminal's foreground job). */
function npmStart(port: number): NpmStart {
  const npm = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_CREDENTIALS: JSON.stringify({ username: 'ops', password: 'npm-start-test-password' }),
      PLAN_API_URL: 'http://127.0.0.1:9',
      SHUTDOWN_DELAY_SECONDS: '0',
    },
  });
  let output = '';
  npm.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  npm.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));
  return { npm, output: () => output, exit };
}

/** The server's pid, once it says it listens; fails if npm exits first. */
async function listening(run: NpmStart): Promise<number> {
  let exited = false;
  void run.exit.then(() => (exited = true));
  for (;;) {
    const pid = /"pid":(\d+),[^\n]*"msg":"claude-code-proxy listening"/.exec(run.output())?.[1];
    if (pid) return Number(pid);
    if (exited) throw new Error(`npm start exited before the server listened:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends whatever is left of the process group npm start began (only processes this test started). */
function cleanUp(run: NpmStart): void {
  if (alive(-run.npm.pid!)) process.kill(-run.npm.pid!, 'SIGKILL');
}

/** Whether anything accepts a connection on the port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('npm start', () => {
  it('hands a SIGTERM sent to npm on to the server, which shuts down gracefully and frees the port', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const run = npmStart(port);
    try {
      const server = await listening(run);
      expect(server).not.toBe(run.npm.pid); // npm's child's child: the signal has to be handed on
      expect(await accepts(port)).toBe(true);
      process.kill(run.npm.pid!, 'SIGTERM');
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect(run.output()).toContain('"signal":"SIGTERM"');
      expect(run.output()).toContain('"msg":"shutdown complete"');
      expect(alive(server)).toBe(false); // the server has exited (npm waited for it), not just npm
      expect(await accepts(port)).toBe(false);
    } finally {
      cleanUp(run);
    }
  });

  it('shuts down gracefully on a Ctrl-C, which reaches npm and the server alike', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const run = npmStart(port);
    try {
      const server = await listening(run);
      process.kill(-run.npm.pid!, 'SIGINT'); // what a terminal does: the whole foreground process group
      expect((await run.exit).code).toBe(0);
      expect(run.output()).toContain('"signal":"SIGINT"');
      expect(run.output()).toContain('"msg":"shutdown complete"');
      expect(run.output()).not.toContain('second signal'); // npm's forwarded copy is the same keypress
      expect(alive(server)).toBe(false);
      expect(await accepts(port)).toBe(false);
    } finally {
      cleanUp(run);
    }
  });
});
