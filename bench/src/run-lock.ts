/**
 * One benchmark at a time on this machine: two runs would share bench/.build and the
 * `ccproxy_bench` database and, worse, measure each other. A lock file holding the runner's PID;
 * one left by a process that no longer exists is taken over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LOCK = path.join(os.tmpdir(), 'ccproxy-bench.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(): number | undefined {
  try {
    fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number(fs.readFileSync(LOCK, 'utf8').trim());
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) return holder;
  fs.rmSync(LOCK, { force: true });
  return tryLock();
}

/** Waits (telling why, once) until no other run holds the lock, then holds it until exit. */
export async function lockRun(say: (line: string) => void, timeoutMs = 15 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const holder = tryLock();
    if (holder === undefined) break;
    if (!told) say(`bench: another run (pid ${holder}) is in progress; waiting for it to finish`);
    told = true;
    if (Date.now() > deadline) throw new Error(`another benchmark run (pid ${holder}) still holds ${LOCK}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  process.on('exit', () => {
    try {
      if (fs.readFileSync(LOCK, 'utf8').trim() === String(process.pid)) fs.rmSync(LOCK);
    } catch {
      /* already gone */
    }
  });
}
