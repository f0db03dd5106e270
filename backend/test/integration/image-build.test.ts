// The image builds from the repository and its server answers, without a Docker daemon: the build
// stage of backend/Dockerfile is run here as Docker runs it — its COPY lines over the context that
// .dockerignore leaves, its RUN lines (backend/scripts/build-image-tree.sh) as they are written —
// and the runtime stage's ENV and CMD start the result on the Node release the image pins
// (backend/scripts/image-node.sh; .ci/run fetches it, and in CI its absence fails the test). Only
// the runtime stage's ADD (the RDS CA bundle, downloaded) and its chmod/chown as root are not run;
// a CA file of the test's stands in.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Ignore } from '@balena/dockerignore';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKind } from '../support/db.ts';

// CommonJS whose module.exports is the factory (its typings call it a default export).
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;
const ROOT = path.resolve(import.meta.dirname, '../../..');
const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'backend/Dockerfile'), 'utf8');
// Where the Dockerfile puts the runtime tree; here it is a temporary directory.
const IMAGE_APP = '/app';

// The image's Node release, read from the Dockerfile by the one script that also fetches it.
const IMAGE_NODE_SCRIPT = path.join(ROOT, 'backend/scripts/image-node.sh');
const imageNodeScript = (command: 'version' | 'path') => execFileSync('sh', [IMAGE_NODE_SCRIPT, command], { encoding: 'utf8' }).trim();
const IMAGE_NODE_VERSION = imageNodeScript('version');
const IMAGE_NODE_BINARY = imageNodeScript('path');
const IMAGE_NODE_FETCHED = fs.existsSync(IMAGE_NODE_BINARY);
const IN_CI = process.env.CI === 'true';
/** What the server runs on here: the image's Node; without it the machine's, except in CI. */
const RUNTIME = IMAGE_NODE_FETCHED || IN_CI ? `Node ${IMAGE_NODE_VERSION}, the image's` : `this machine's Node ${process.version.slice(1)} (the image's ${IMAGE_NODE_VERSION} is not fetched)`;

interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions of each stage, by stage name (continuation lines joined, comments left out). */
function stages(dockerfile: string): Map<string, Instruction[]> {
  const result = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(args)?.[1] ?? String(result.size);
      current = [];
      result.set(name, current);
    } else if (current) current.push({ keyword: keyword.toUpperCase(), args });
  }
  return result;
}

/** The files Docker would send as the build context: the work tree's, less what .dockerignore names. */
function buildContext(into: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  const ignore = dockerignore().add(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
  for (const file of ignore.filter(listed)) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the work tree
    fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    fs.copyFileSync(from, path.join(into, file));
  }
}

/** Docker's COPY of context paths into the stage's working directory. */
function copy(args: string, context: string, workdir: string): void {
  const parts = args.split(/\s+/);
  expect(parts.some((p) => p.startsWith('--')), `COPY ${args}: flags are not simulated`).toBe(false);
  const dest = path.join(workdir, parts.at(-1)!);
  for (const source of parts.slice(0, -1)) {
    const from = path.join(context, source);
    const to = parts.at(-1)!.endsWith('/') || source === '.' ? path.join(dest, source === '.' ? '' : path.basename(source)) : dest;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.cpSync(from, to, { recursive: true });
  }
}

let work: string;
let app: string;

describe.runIf(testDatabaseKind() === 'pglite')('the image, built from the repository without Docker', () => {
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-image-'));
    app = path.join(work, 'app');
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('starts from a Node LTS pinned by digest, one the engines allow', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/m.exec(DOCKERFILE);
    expect(image, 'ARG NODE_IMAGE=node:<release>-bookworm-slim@sha256:<digest>').not.toBeNull();
    const major = image![1]!;
    expect(Number(major) % 2, 'an even major: a long-term support line').toBe(0);
    // The release the binary the server is tested on must be.
    expect(IMAGE_NODE_VERSION).toMatch(new RegExp(`^${major}\\.\\d+\\.\\d+$`));
    for (const manifest of ['package.json', 'backend/package.json', 'frontend/package.json']) {
      const engines = (JSON.parse(fs.readFileSync(path.join(ROOT, manifest), 'utf8')) as { engines: { node: string } }).engines.node;
      expect(engines.split('||').map((r) => r.trim()), manifest).toContainEqual(expect.stringMatching(new RegExp(`^\\^${major}(\\.|$)`)));
    }
  });

  it('runs the build stage as written, into a tree of production dependencies only', () => {
    const build = stages(DOCKERFILE).get('build');
    expect(build, 'a stage named build').toBeDefined();
    const context = path.join(work, 'context');
    const src = path.join(work, 'src');
    buildContext(context);
    fs.mkdirSync(src);
    const runs: string[] = [];
    for (const { keyword, args } of build!) {
      if (keyword === 'COPY') copy(args, context, src);
      else if (keyword === 'RUN') {
        runs.push(args);
        // From npm's cache only (CI's own `npm ci` filled it): tests reach nothing but 127.0.0.1. The image's build fetches.
        execFileSync('sh', ['-c', args.replaceAll(IMAGE_APP, app)], { cwd: src, stdio: 'pipe', env: { ...process.env, NODE_ENV: '', npm_config_offline: 'true' } });
      } else expect(['WORKDIR', 'ARG'], `${keyword} in the build stage is not simulated`).toContain(keyword);
    }
    // The build's commands are the script's: nothing the test could miss runs beside it.
    expect(runs.every((r) => r.startsWith('sh backend/scripts/build-image-tree.sh '))).toBe(true);
    expect(runs).toHaveLength(2);

    for (const shipped of ['backend/dist/main.js', 'backend/public/index.html', 'backend/migrations/0001_init.sql', 'node_modules/fastify/package.json', 'node_modules/pg/package.json']) {
      expect(fs.existsSync(path.join(app, shipped)), shipped).toBe(true);
    }
    for (const devOnly of ['node_modules/vitest', 'node_modules/typescript', 'node_modules/vite', 'backend/src', 'backend/test']) {
      expect(fs.existsSync(path.join(app, devOnly)), devOnly).toBe(false);
    }
  }, 900_000);

  it(`serves /health, /ready and the dashboard as the runtime stage starts it, on ${RUNTIME}`, async () => {
    const runtime = stages(DOCKERFILE).get('runtime')!;
    expect(runtime.find((i) => i.keyword === 'COPY')?.args).toBe(`--from=build ${IMAGE_APP} ${IMAGE_APP}`);
    const cmd = JSON.parse(runtime.find((i) => i.keyword === 'CMD')!.args) as string[];
    const env: Record<string, string> = {};
    for (const { args } of runtime.filter((i) => i.keyword === 'ENV')) {
      for (const [, name, value] of args.matchAll(/(\w+)=(\S+)/g)) env[name!] = value!.replace(IMAGE_APP, app);
    }
    expect(env).toMatchObject({ NODE_ENV: 'production', DATABASE_CA_FILE: `${app}/certs/rds-global-bundle.pem` });
    // The ADD of the RDS bundle downloads it; any CA certificate stands in for it here.
    fs.mkdirSync(path.join(app, 'certs'), { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=stand-in', '-keyout', path.join(work, 'ca.key'), '-out', env.DATABASE_CA_FILE!], { stdio: 'pipe' });

    expect(cmd[0]).toBe('node');
    if (!IMAGE_NODE_FETCHED && IN_CI) {
      throw new Error(`Node ${IMAGE_NODE_VERSION}, the image's, is not at ${IMAGE_NODE_BINARY}: \`sh backend/scripts/image-node.sh fetch\` puts it there (.ci/run does)`);
    }
    const node = IMAGE_NODE_FETCHED ? IMAGE_NODE_BINARY : process.execPath;
    if (IMAGE_NODE_FETCHED) expect(execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${IMAGE_NODE_VERSION}`);
    const child = spawn(node, cmd.slice(1), {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
        // As infra/lib/compute-stack.ts runs it, on the embedded database instead of Aurora.
        ENVIRONMENT: 'prod',
        METRICS: 'off',
        PORT: '0',
        HOST: '127.0.0.1',
        KEY_HASHER_SECRET: randomBytes(32).toString('base64'),
        LOCAL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ADMIN_CREDENTIALS: JSON.stringify({ username: 'ops', password: randomBytes(12).toString('base64') }),
        SHUTDOWN_DELAY_SECONDS: '0',
      },
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (c: Buffer) => {
          output += c.toString();
          const found = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
          if (found) resolve(found);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${output}`)));
      });
      // The process answering is that binary's.
      if (process.platform === 'linux') expect(fs.readlinkSync(`/proc/${child.pid}/exe`)).toBe(fs.realpathSync(node));
      expect((await request(`${url}/health`)).statusCode).toBe(200);
      expect((await request(`${url}/ready`)).statusCode).toBe(200);
      const page = await request(`${url}/`);
      expect(page.statusCode).toBe(200);
      expect(await page.body.text()).toContain('<div id="root">');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
