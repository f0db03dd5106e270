/** Starts src/floor-proxy.ts as its own process, like the gateways. */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { firstLine, spawnChild } from './children.ts';
import { BENCH_DIR } from './proxy-build.ts';

export async function startFloor(upstream: string, logFile: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawnChild('floor', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'src/floor-proxy.ts')], {
    pipeStdout: true,
    env: { BENCH_UPSTREAM: upstream },
    logFile,
  });
  const { port } = JSON.parse(await firstLine(child)) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}
