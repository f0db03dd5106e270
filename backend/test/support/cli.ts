import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = path.join(import.meta.dirname, '../../bin/ccproxy.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `ccproxy` against `url`, with its token store in `configDir` and `stdin` piped in. */
export function runCli(options: { url: string; configDir: string }, args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--url', options.url], { env: { ...process.env, CCPROXY_CONFIG_DIR: options.configDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
