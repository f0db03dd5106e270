import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { tmuxAvailable } from '../support/claude-code-tty.ts';

// `ccproxy login` reads the password as one line: piped (with the pipe left open after it), and
// pasted into the hidden prompt of a terminal, where the paste arrives as one chunk with its line end.

const run = promisify(execFile);
const bin = path.join(import.meta.dirname, '../../bin/ccproxy.js');
let proxy: TestApp;
let home: string;

beforeAll(async () => {
  proxy = await startTestApp();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-prompt-'));
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const loggedIn = (configDir: string) => JSON.parse(fs.readFileSync(path.join(configDir, 'credentials.json'), 'utf8')) as Record<string, { token: string }>;

describe('the password prompt', () => {
  it('takes the first line of a pipe that stays open', async () => {
    const configDir = path.join(home, 'piped');
    const child = spawn(process.execPath, [bin, 'login', '--url', proxy.url], { env: { ...process.env, CCPROXY_CONFIG_DIR: configDir } });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stdin.write(`${ADMIN_PASSWORD}\n`); // and never ended
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Logged in to /);
    expect(loggedIn(configDir)[proxy.url]!.token).toBeTruthy();
  });

  it.skipIf(!tmuxAvailable())('takes a password pasted with its line end at the hidden prompt of a terminal', { timeout: 60_000 }, async () => {
    const configDir = path.join(home, 'tty');
    const socket = path.join(home, 'tmux.sock');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', TERM: 'xterm-256color' };
    const tmux = async (...args: string[]) => (await run('tmux', ['-u', '-S', socket, ...args], { env, timeout: 10_000 })).stdout;
    const script = path.join(home, 'login.sh');
    // remain-on-exit keeps the pane (and what the CLI printed) after it exits.
    fs.writeFileSync(path.join(home, 'tmux.conf'), 'set -g remain-on-exit on\nset -g status off\n');
    fs.writeFileSync(script, `CCPROXY_CONFIG_DIR='${configDir}' exec '${process.execPath}' '${bin}' login --url ${proxy.url}\n`);
    try {
      await tmux('-f', path.join(home, 'tmux.conf'), 'new-session', '-d', '-s', 'login', '-x', '120', '-y', '20', '/bin/sh', script);
      await screenShows(tmux, /Password for admin at /);
      // A real paste: the whole buffer at once, "\n" and all (-r keeps it rather than turning it into "\r").
      await tmux('set-buffer', '-b', 'pw', `${ADMIN_PASSWORD}\n`);
      await tmux('paste-buffer', '-r', '-b', 'pw', '-t', 'login');
      const screen = await screenShows(tmux, /Logged in to |ccproxy: /);
      expect(screen).toMatch(/Logged in to /);
      expect(screen).not.toContain(ADMIN_PASSWORD); // the prompt does not echo
      expect(loggedIn(configDir)[proxy.url]!.token).toBeTruthy();
    } finally {
      await tmux('kill-server').catch(() => {});
    }
  });
});

/** Polls the pane until it shows `pattern` (the CLI's own pace), up to a generous bound. */
async function screenShows(tmux: (...args: string[]) => Promise<string>, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const screen = await tmux('capture-pane', '-p', '-t', 'login');
    if (pattern.test(screen)) return screen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the pane never showed ${pattern}:\n${await tmux('capture-pane', '-p', '-t', 'login')}`);
}
