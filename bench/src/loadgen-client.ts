/** The load generator process (src/loadgen.ts) as seen from the runner: one LoadSpec at a time or several at once, over IPC. */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { spawnChild } from './children.ts';
import type { FromLoadgen, LoadResult, LoadSpec, ToLoadgen, WindowPhase } from './load-protocol.ts';
import { BENCH_DIR } from './proxy-build.ts';

export class Loadgen {
  readonly child: ChildProcess;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void; onWindow: (phase: WindowPhase) => void }>();
  readonly ready: Promise<void>;

  constructor(logFile: string) {
    this.child = spawnChild('load generator', process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'src/loadgen.ts')], { ipc: true, logFile });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: FromLoadgen) => {
        if (message.type === 'ready') return resolve();
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        if (message.type === 'window') pending.onWindow(message.phase);
        else if (message.type === 'result') {
          this.#pending.delete(message.id);
          pending.resolve(message.result);
        } else {
          this.#pending.delete(message.id);
          pending.reject(new Error(`load generator: ${message.message}`));
        }
      });
      this.child.once('exit', (code) => {
        const err = new Error(`load generator exited (${code})`);
        reject(err);
        for (const p of this.#pending.values()) p.reject(err);
      });
    });
  }

  run(spec: LoadSpec, onWindow: (phase: WindowPhase) => void = () => undefined): Promise<LoadResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onWindow });
      this.child.send({ type: 'run', id, spec } satisfies ToLoadgen);
    });
  }
}
