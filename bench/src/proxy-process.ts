/**
 * The proxy under test, configured as in production: its own process running the compiled
 * server, ENVIRONMENT=staging (prod without its database TLS requirement) with real secrets, LOG_LEVEL=info (one access line per request),
 * METRICS=cloudwatch (EMF lines), usage accounting into PostgreSQL — a fresh `ccproxy_bench`
 * database when 127.0.0.1:5432 answers, else the embedded PGlite. Users and keys are made through
 * the admin API, as an operator would.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { freePort, spawnChild, stopChild, waitForHttp } from './children.ts';
import { imageNodeFlags } from './proxy-build.ts';

const ADMIN = { username: 'admin', password: `bench-${randomBytes(9).toString('base64url')}` };
const KEY_HASHER_SECRET = randomBytes(32).toString('hex');
const LOCAL_ENCRYPTION_KEY = randomBytes(32).toString('hex');
const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_DB = 'ccproxy_bench';

export interface BenchDatabase {
  kind: 'postgres' | 'pglite';
  /** For the proxy's DATABASE_URL; undefined: PGlite in dataDir. */
  url: string | undefined;
  dataDir: string;
  describe: string;
}

function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host, timeout: 1_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** A fresh PostgreSQL database (dropped and created again), or PGlite when none answers. */
export async function prepareDatabase(): Promise<BenchDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-bench-'));
  const admin = new URL(PG_ADMIN_URL);
  if (await answers(Number(admin.port || 5432), admin.hostname)) {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${BENCH_DB}`);
      const version = await client.query<{ server_version: string }>('SHOW server_version');
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${BENCH_DB}`;
      return { kind: 'postgres', url: url.toString(), dataDir, describe: `PostgreSQL ${version.rows[0]?.server_version ?? ''} at ${url.host}, database ${BENCH_DB} (fresh)` };
    } finally {
      await client.end();
    }
  }
  return {
    kind: 'pglite',
    url: undefined,
    dataDir,
    describe: 'PGlite (embedded; no PostgreSQL answered on 127.0.0.1:5432): its memory is part of the proxy RSS, so the RSS target does not mean much here',
  };
}

export interface ProxyOptions {
  mainJs: string;
  database: BenchDatabase;
  upstream: string;
  bedrockApi: 'invoke' | 'converse';
  logFile: string;
  /** Directory for `--cpu-prof` output, when profiling. */
  profileDir: string | undefined;
  /** Open the inspector on this 127.0.0.1 port (`--heap`: the bench reads process.memoryUsage() through it). */
  inspectPort?: number;
  /** Settings over the defaults below (the sizing run raises MAX_UPSTREAM_REQUESTS). */
  env?: Record<string, string>;
  /** A command that execs node under a CPU limit (`taskset -c 1`, `systemd-run --scope …`), for the sizing run. */
  launcher?: string[];
}

export interface RunningProxy {
  url: string;
  child: ChildProcess;
  bedrockApi: 'invoke' | 'converse';
  inspectPort?: number;
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const port = await freePort();
  const args: string[] = [];
  if (options.profileDir) {
    fs.mkdirSync(options.profileDir, { recursive: true });
    args.push('--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-name', `proxy-${options.bedrockApi}-${Date.now()}.cpuprofile`);
  }
  if (options.inspectPort) args.push(`--inspect=127.0.0.1:${options.inspectPort}`);
  args.push(...imageNodeFlags(), options.mainJs);
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    // staging: prod's start-up checks but a plain-TCP local database (prod insists on verify-full TLS).
    ENVIRONMENT: 'staging',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    METRICS: 'cloudwatch',
    DATA_DIR: options.database.dataDir,
    KEY_HASHER_SECRET,
    ADMIN_CREDENTIALS: JSON.stringify(ADMIN),
    LOCAL_ENCRYPTION_KEY,
    PLAN_API_URL: options.upstream,
    BEDROCK_ENDPOINT: options.upstream,
    BEDROCK_API: options.bedrockApi,
    // A restart between scenarios need not wait for a load balancer.
    SHUTDOWN_DELAY_SECONDS: '0',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  if (options.database.url) env.DATABASE_URL = options.database.url;
  Object.assign(env, options.env);
  const [command, ...prefix] = options.launcher?.length ? [...options.launcher, process.execPath] : [process.execPath];
  const child = spawnChild(`proxy (${options.bedrockApi})`, command!, [...prefix, ...args], {
    env,
    logFile: options.logFile,
    stopSignal: 'SIGINT',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/ready`, child);
  return { url, child, bedrockApi: options.bedrockApi, inspectPort: options.inspectPort };
}

export function stopProxy(proxy: RunningProxy): Promise<void> {
  return stopChild(proxy.child);
}

async function call<T>(base: string, method: 'POST' | 'PATCH' | 'PUT', route: string, body: unknown, token?: string): Promise<T> {
  const res = await request(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${route}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

export interface BenchKeys {
  /** Access key of a plan_first user (Anthropic passthrough). */
  plan: string;
  /** Access key of a bedrock_only user with a Bedrock API key. */
  bedrock: string;
}

/** Two users and their keys, through the admin API. */
export async function provision(proxyUrl: string): Promise<BenchKeys> {
  const { access_token: token } = await call<{ access_token: string }>(proxyUrl, 'POST', '/admin/auth/login', ADMIN);
  const issue = async (name: string, routing: 'plan_first' | 'bedrock_only') => {
    const user = await call<{ id: string }>(proxyUrl, 'POST', '/admin/users', { name, description: 'benchmark' }, token);
    await call(proxyUrl, 'PATCH', `/admin/users/${user.id}`, { routing_strategy: routing }, token);
    return call<{ id: string; raw_key: string }>(proxyUrl, 'POST', `/admin/users/${user.id}/access-keys`, { bedrock_region: 'us-east-1' }, token);
  };
  const plan = await issue('bench-plan', 'plan_first');
  const bedrock = await issue('bench-bedrock', 'bedrock_only');
  await call(proxyUrl, 'PUT', `/admin/access-keys/${bedrock.id}/bedrock-key`, { bedrock_api_key: `ABSK${randomBytes(24).toString('base64url')}` }, token);
  return { plan: plan.raw_key, bedrock: bedrock.raw_key };
}
