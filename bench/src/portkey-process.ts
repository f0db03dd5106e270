/**
 * Portkey's open-source gateway (`@portkey-ai/gateway` 1.15.2), the same-language peer, as its
 * own process with the preload that makes it work on Node 20 (see portkey-preload.mjs). Headless
 * and NODE_ENV=production, so it serves the API only (no console UI or log streaming).
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort, spawnChild, waitForHttp } from './children.ts';

const require = createRequire(import.meta.url);

export async function startPortkey(logFile: string): Promise<{ url: string; child: ChildProcess }> {
  const server = path.join(path.dirname(require.resolve('@portkey-ai/gateway/package.json')), 'build/start-server.js');
  const port = await freePort();
  const child = spawnChild('portkey', process.execPath, ['--import', path.join(import.meta.dirname, 'portkey-preload.mjs'), server, `--port=${port}`, '--headless'], {
    env: { NODE_ENV: 'production' },
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, child);
  return { url, child };
}
