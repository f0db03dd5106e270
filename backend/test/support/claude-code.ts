import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const VERSION = '2.1.332';
// ~400 MB: kept out of the product's dependencies and installed once into a cache folder on demand.
const CACHE = process.env.CLAUDE_CODE_CACHE ?? path.resolve(import.meta.dirname, '../../../.cache/claude-code');

/** Path to the Claude Code CLI binary, installing @anthropic-ai/claude-code from the npm registry if needed. */
export async function ensureClaudeCode(): Promise<string> {
  const bin = path.join(CACHE, 'node_modules/@anthropic-ai/claude-code/bin/claude.exe');
  const installed = path.join(CACHE, 'node_modules/@anthropic-ai/claude-code/package.json');
  if (fs.existsSync(bin) && fs.existsSync(installed) && (JSON.parse(fs.readFileSync(installed, 'utf8')) as { version: string }).version === VERSION) {
    return bin;
  }
  fs.mkdirSync(CACHE, { recursive: true });
  // Its own package.json, so npm does not treat the cache as part of this repository's workspaces.
  fs.writeFileSync(path.join(CACHE, 'package.json'), JSON.stringify({ name: 'claude-code-cache', private: true }));
  await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--no-save', `@anthropic-ai/claude-code@${VERSION}`], {
    cwd: CACHE,
    timeout: 240_000,
  });
  if (!fs.existsSync(bin)) {
    // npm may skip the postinstall that links the platform binary; use the platform package directly.
    const platform = path.join(CACHE, `node_modules/@anthropic-ai/claude-code-${process.platform}-${process.arch}`);
    const candidates = fs.existsSync(platform) ? fs.readdirSync(platform, { recursive: true }).map(String).filter((f) => /(^|\/)claude(\.exe)?$/.test(f)) : [];
    if (!candidates[0]) throw new Error(`Claude Code ${VERSION} installed into ${CACHE} without a binary for ${process.platform}-${process.arch}`);
    return path.join(platform, candidates[0]);
  }
  return bin;
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawning the CLI to its exit, in ms (how long a developer waits for the answer). */
  elapsedMs: number;
}

export interface RunClaudeOptions {
  args: string[];
  env: Record<string, string>;
  trapProxy: string;
  cwd?: string;
  /** Variables of the default environment to leave out, e.g. `CLAUDE_CODE_MAX_RETRIES` to get the CLI's own retries. */
  unsetEnv?: string[];
  /** Called with the run's HOME after the CLI exited, before HOME is deleted (to read what the CLI wrote there). */
  inspectHome?: (home: string) => void;
}

/**
 * Runs `claude <args>` offline in a fresh HOME: only the proxy is reachable (anything else goes to
 * `trapProxy`, a local port that refuses), no telemetry, no retries, killed after 90 s.
 */
export function runClaude(bin: string, options: RunClaudeOptions): Promise<ClaudeRun> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-home-'));
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    TERM: 'dumb',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    HTTPS_PROXY: options.trapProxy,
    HTTP_PROXY: options.trapProxy,
    NO_PROXY: '127.0.0.1,localhost',
    ...options.env,
  };
  for (const name of options.unsetEnv ?? []) delete env[name];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, options.args, {
      cwd: options.cwd ?? home,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      const elapsedMs = performance.now() - started;
      clearTimeout(timer);
      let inspected: unknown;
      try {
        options.inspectHome?.(home);
      } catch (err) {
        inspected = err;
      }
      fs.rmSync(home, { recursive: true, force: true });
      if (inspected !== undefined) reject(inspected instanceof Error ? inspected : new Error(String(inspected)));
      else resolve({ code, stdout, stderr, elapsedMs });
    });
  });
}
