/**
 * The functions the proxy spent its own CPU in, from a `--cpu-prof` profile (`npm run bench --
 * --profile` writes them to bench/profiles):
 *
 *   node --import tsx bench/src/profile-top.ts [file.cpuprofile] [count]   (default: the newest, 25)
 *
 * Self time per function (samples whose top frame it is), then per file/package, as shares of
 * the busy (non-idle) time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './proxy-build.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Self time grouped by `key` of each sampled node, largest first. */
export function selfTimes(profile: CpuProfile, key: (node: ProfileNode) => string): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    // Idle time is not the proxy's cost: shares are of the time it was busy.
    if (!node || node.callFrame.functionName === '(idle)') return;
    const k = key(node);
    totals.set(k, (totals.get(k) ?? 0) + us);
    all += us;
  });
  return [...totals]
    .map(([name, us]) => ({ name, ms: us / 1000, share: all ? us / all : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

function where(url: string): string {
  if (!url) return '(native)';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) return file.slice(modules + 14).split('/').slice(0, file.slice(modules + 14).startsWith('@') ? 2 : 1).join('/');
  const dist = file.indexOf('/.build/dist/');
  return dist !== -1 ? `backend/src/${file.slice(dist + 13)}` : file.startsWith('node:') ? file : path.basename(file);
}

function main(): void {
  const dir = path.join(BENCH_DIR, 'profiles');
  const file =
    process.argv[2] ||
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const count = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const line = (t: SelfTime) => `${(t.share * 100).toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(7)} ms  ${t.name}`;
  process.stdout.write(`${file}\n\nself time by function:\n`);
  for (const t of selfTimes(profile, (n) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`).slice(0, count)) {
    process.stdout.write(`${line(t)}\n`);
  }
  process.stdout.write('\nself time by file or package:\n');
  for (const t of selfTimes(profile, (n) => where(n.callFrame.url)).slice(0, 15)) process.stdout.write(`${line(t)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) main();
