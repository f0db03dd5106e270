/**
 * The proxy as production runs it: compiled JavaScript (backend/Dockerfile runs
 * `node backend/dist/main.js`). Each file of backend/src is transpiled with the backend's own
 * compiler options (TypeScript's transpileModule: the same emit as `tsc`, without the 20 s type
 * check) into bench/.build/dist, next to links to the backend's package.json and migrations,
 * which the server finds relative to its own files. Rebuilt on every run, so a change to
 * backend/src is always what gets measured.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const BENCH_DIR = path.resolve(import.meta.dirname, '..');
const BACKEND = path.resolve(BENCH_DIR, '../backend');
const BUILD = path.join(BENCH_DIR, '.build');

function compilerOptions(): ts.CompilerOptions {
  const configPath = path.join(BACKEND, 'tsconfig.build.json');
  const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, BACKEND);
  // NodeNext decides ESM or CommonJS per file from package.json, which transpileModule cannot
  // see; backend/package.json says "type": "module", so ESM it is.
  return { ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: false, sourceMap: false, declaration: false };
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Builds the proxy; returns the path of its main.js. */
export function buildProxy(): string {
  const options = compilerOptions();
  const src = path.join(BACKEND, 'src');
  const out = path.join(BUILD, 'dist');
  fs.rmSync(BUILD, { recursive: true, force: true });
  for (const file of sources(src)) {
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    const target = path.join(out, path.relative(src, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  }
  fs.symlinkSync(path.join(BACKEND, 'package.json'), path.join(BUILD, 'package.json'));
  fs.symlinkSync(path.join(BACKEND, 'migrations'), path.join(BUILD, 'migrations'));
  return path.join(out, 'main.js');
}

/** The commit measured, and whether backend/src had uncommitted changes (they are measured too). */
export function sourceVersion(): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', '../backend/src').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed ? ` with ${changed} uncommitted file(s) in backend/src` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/**
 * The Node flags the image starts the server with: the words between `node` and the script in
 * backend/Dockerfile's `CMD ["node", …, "backend/dist/main.js"]`, so the bench runs what ships.
 */
export function imageNodeFlags(dockerfile = fs.readFileSync(path.join(BACKEND, 'Dockerfile'), 'utf8')): string[] {
  const cmd = dockerfile.split('\n').find((line) => line.startsWith('CMD ['));
  const words = cmd ? (JSON.parse(cmd.slice('CMD '.length)) as unknown) : undefined;
  if (!Array.isArray(words) || words[0] !== 'node' || words[words.length - 1] !== 'backend/dist/main.js') {
    throw new Error('backend/Dockerfile: expected CMD ["node", …, "backend/dist/main.js"]');
  }
  return words.slice(1, -1) as string[];
}
