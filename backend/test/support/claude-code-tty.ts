import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureClaudeCode } from './claude-code.ts';

const run = promisify(execFile);

export interface ClaudeCodeTtyOptions {
  /** ANTHROPIC_BASE_URL. */
  baseUrl: string;
  /** ANTHROPIC_API_KEY; pre-approved in `.claude.json`, so the "Detected a custom API key" dialog is skipped. */
  apiKey?: string;
  /**
   * ANTHROPIC_AUTH_TOKEN. Usage-limit warnings (`anthropic-ratelimit-unified-*` headers) are only read for
   * claude.ai subscribers and gateway sessions: with a custom base URL, a token from {@link gatewayToken}, or
   * any token together with `CLAUDE_CODE_USE_GATEWAY=1` in `env`. Never for `apiKey` alone.
   */
  authToken?: string;
  /** Written to `~/.claude/settings.json`, e.g. `{ statusLine: { type: 'command', command: 'echo hi' } }`. */
  settings?: Record<string, unknown>;
  /** Extra variables for the CLI (merged over the offline defaults). */
  env?: Record<string, string>;
  /** Extra CLI arguments. */
  args?: string[];
  /** Typed into the input box (then Enter) once it is shown. */
  prompt?: string;
  /** Resolves once the captured screen matches. */
  waitFor: RegExp;
  /** Default 30 s. Note a usage-limit warning is shown no earlier than ~10 s after start. */
  timeoutMs?: number;
  /** Where traffic to anything but 127.0.0.1/localhost goes (a local port that refuses); default port 9. */
  trapProxy?: string;
  columns?: number;
  rows?: number;
  /** Called with the run's HOME before it is deleted (e.g. to read what a status line command wrote). */
  inspectHome?: (home: string) => void;
}

export interface ClaudeCodeTtyResult {
  /** The pane's text (`tmux capture-pane -p`) when it first matched `waitFor`. */
  screen: string;
  /** Milliseconds from start until the match. */
  elapsedMs: number;
}

/** Whether `tmux` can be run here (the helper needs it). */
export function tmuxAvailable(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * An unsigned JWT whose `aud` is `claude-gateway`: as ANTHROPIC_AUTH_TOKEN with a non-Anthropic base URL, the CLI
 * treats the session as a gateway sign-in and honours `anthropic-ratelimit-unified-*` headers. Never verified.
 */
export function gatewayToken(claims: Record<string, unknown> = {}): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'claude-gateway', sub: 'test-user', exp: 4102444800, ...claims })}.x`;
}

const INPUT_BOX = /─{10,}\n❯.*\n─{10,}/;
const BLOCKING_DIALOG = /Quick safety check|Detected a custom API key|Unable to connect to Anthropic services|Select login method/;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the interactive Claude Code TUI offline under a private tmux server in a fresh HOME (onboarding done,
 * working folder trusted), optionally submits `prompt`, and waits until the screen matches `waitFor`.
 * Kills only its own tmux server and CLI process, and deletes the HOME, whatever the outcome.
 */
export async function runClaudeCodeTty(options: ClaudeCodeTtyOptions): Promise<ClaudeCodeTtyResult> {
  const bin = await ensureClaudeCode();
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'claude-tty-')));
  const work = path.join(home, 'work');
  const socket = path.join(home, 'tmux.sock');
  fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
  fs.mkdirSync(work);

  const config: Record<string, unknown> = {
    hasCompletedOnboarding: true,
    projects: { [work]: { hasTrustDialogAccepted: true } },
  };
  if (options.apiKey !== undefined) config.customApiKeyResponses = { approved: [options.apiKey.trim().slice(-20)], rejected: [] };
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify(config));
  if (options.settings) fs.writeFileSync(path.join(home, '.claude/settings.json'), JSON.stringify(options.settings));

  const trapProxy = options.trapProxy ?? 'http://127.0.0.1:9';
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    HTTPS_PROXY: trapProxy,
    HTTP_PROXY: trapProxy,
    NO_PROXY: '127.0.0.1,localhost',
    ANTHROPIC_BASE_URL: options.baseUrl,
    ...(options.apiKey !== undefined && { ANTHROPIC_API_KEY: options.apiKey }),
    ...(options.authToken !== undefined && { ANTHROPIC_AUTH_TOKEN: options.authToken }),
    ...options.env,
  };
  const script = path.join(home, 'launch.sh');
  const assignments = Object.entries(env).map(([name, value]) => shellQuote(`${name}=${value}`));
  fs.writeFileSync(script, `cd ${shellQuote(work)} && exec env -i ${assignments.join(' ')} ${[bin, ...(options.args ?? [])].map(shellQuote).join(' ')}\n`);
  // remain-on-exit keeps the last screen of a CLI that quit; status off gives the CLI every row.
  fs.writeFileSync(path.join(home, 'tmux.conf'), 'set -g remain-on-exit on\nset -g status off\n');

  const tmuxEnv = { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', TERM: 'xterm-256color' };
  const tmux = (...args: string[]) => run('tmux', ['-u', '-S', socket, ...args], { env: tmuxEnv, timeout: 10_000 }).then((r) => r.stdout);
  const capture = () => tmux('capture-pane', '-p', '-t', 'cc');

  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 30_000);
  let panePid: number | undefined;
  let outcome: { ok: true; result: ClaudeCodeTtyResult } | { ok: false; error: unknown };
  try {
    const size = ['-x', String(options.columns ?? 160), '-y', String(options.rows ?? 40)];
    // The command as argv, so tmux runs it without a shell: the pane's pid is the CLI's (the script execs it).
    await tmux('-f', path.join(home, 'tmux.conf'), 'new-session', '-d', '-s', 'cc', ...size, '/bin/sh', script);
    panePid = Number((await tmux('display-message', '-p', '-t', 'cc', '#{pane_pid}')).trim());
    outcome = { ok: true, result: await waitForScreen() };
  } catch (error) {
    outcome = { ok: false, error };
  }

  await tmux('kill-server').catch(() => {});
  if (panePid !== undefined && Number.isInteger(panePid) && panePid > 0) {
    for (let i = 0; i < 20 && isAlive(panePid); i++) await sleep(100);
    if (isAlive(panePid)) {
      try {
        process.kill(panePid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  try {
    options.inspectHome?.(home);
  } catch (error) {
    if (outcome.ok) outcome = { ok: false, error };
  }
  fs.rmSync(home, { recursive: true, force: true });
  if (!outcome.ok) throw outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
  return outcome.result;

  async function waitForScreen(): Promise<ClaudeCodeTtyResult> {
    let prompted = options.prompt === undefined;
    for (;;) {
      const screen = await capture();
      if (options.waitFor.test(screen)) return { screen, elapsedMs: Date.now() - started };
      const dead = (await tmux('display-message', '-p', '-t', 'cc', '#{pane_dead} #{pane_dead_status}')).trim();
      if (dead.startsWith('1')) throw new Error(`Claude Code exited (status ${dead.slice(2) || '?'}) before the screen matched ${options.waitFor}:\n${screen}`);
      if (BLOCKING_DIALOG.test(screen)) throw new Error(`Claude Code shows a dialog the helper does not answer:\n${screen}`);
      if (!prompted && INPUT_BOX.test(screen)) {
        await sleep(300);
        await tmux('send-keys', '-t', 'cc', '-l', options.prompt ?? '');
        await sleep(300);
        await tmux('send-keys', '-t', 'cc', 'Enter');
        prompted = true;
      }
      if (Date.now() > deadline) throw new Error(`Timed out after ${Date.now() - started} ms waiting for ${options.waitFor}; screen:\n${screen}`);
      await sleep(200);
    }
  }
}
