// The server against a PostgreSQL that accepts TLS only, as Aurora with rds.force_ssl does
// (README, Configuration: DATABASE_SSL_MODE, DATABASE_CA_FILE, DATABASE_ADMIN_URL). In prod it
// connects with verify-full by default, refuses a certificate from another CA or for another host,
// and with DATABASE_ADMIN_URL migrates as the master, forgets that login (environment, memory) and
// serves as a role of its own that can read and write rows and do nothing else. The cluster is this test's own (support/tls-postgres.ts).
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKind } from '../support/db.ts';
import { startTlsPostgres, type TlsPostgres } from '../support/tls-postgres.ts';

const main = path.join(import.meta.dirname, '../../src/main.ts');
const APP_ROLE = 'ccproxy_app';
const DATABASE = 'ccproxy';

let cluster: TlsPostgres;
let dataDir: string;

interface Run {
  /** The server's URL once it listens, or its exit code and output when it stopped first. */
  url?: string;
  code?: number | null;
  output: string;
  pid: number;
  stop(): Promise<void>;
}

/** The real server process (src/main.ts) in prod, with the secrets prod demands and `env`; `nodeArgs` go to Node. */
function startServer(env: Record<string, string>, nodeArgs: string[] = []): Promise<Run> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', main], {
    env: {
      PATH: process.env.PATH,
      AWS_EC2_METADATA_DISABLED: 'true',
      ENVIRONMENT: 'prod',
      METRICS: 'off',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      KEY_HASHER_SECRET: randomBytes(32).toString('base64'),
      LOCAL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_CREDENTIALS: JSON.stringify({ username: 'ops', password: randomBytes(12).toString('base64') }),
      SHUTDOWN_DELAY_SECONDS: '0',
      ...env,
    },
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
      if (url) resolve({ url, output, pid: child.pid!, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => resolve({ code, output, pid: child.pid!, stop }));
  });
}

/**
 * What the running server holds, as Node writes it for diagnosis: a diagnostic report (the one a
 * crash writes, environment included) on SIGURG and a heap snapshot (every live string, whole) on
 * SIGUSR2, plus its initial environment block as the kernel shows it (/proc/<pid>/environ).
 */
const DIAGNOSTIC_ARGS = (dir: string) => [`--diagnostic-dir=${dir}`, `--report-directory=${dir}`, '--report-on-signal', '--report-signal=SIGURG', '--heapsnapshot-signal=SIGUSR2', '--heap-snapshot-string-limit=100000000'];

async function diagnose(run: Run, dir: string): Promise<{ report: { environmentVariables: Record<string, string> }; reportText: string; heap: string; environ: string }> {
  const written = async (signal: NodeJS.Signals, prefix: string): Promise<string> => {
    process.kill(run.pid, signal);
    let file: string | undefined;
    for (let waited = 0; !file; waited += 50) {
      if (waited > 60_000) throw new Error(`no ${prefix} file after ${signal}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      file = fs.readdirSync(dir).find((f) => f.startsWith(prefix));
    }
    // Node writes both on the main thread, from the moment the file exists: an answer means it is done.
    expect((await request(`${run.url}/health`)).statusCode).toBe(200);
    return fs.readFileSync(path.join(dir, file), 'latin1');
  };
  const reportText = await written('SIGURG', 'report.');
  const heap = await written('SIGUSR2', 'Heap.');
  const environ = fs.readFileSync(`/proc/${run.pid}/environ`, 'latin1');
  return { report: JSON.parse(reportText) as { environmentVariables: Record<string, string> }, reportText, heap, environ };
}

const url = (user: string, password: string, host = '127.0.0.1') =>
  `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${cluster.port}/${DATABASE}`;

/** A connection as `user`, verified against the right CA. */
async function connect(user: string, password: string, database = DATABASE): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: cluster.port,
    user,
    password,
    database,
    ssl: { ca: fs.readFileSync(cluster.caFile, 'utf8'), rejectUnauthorized: true },
  });
  await client.connect();
  return client;
}

async function asMaster<T>(fn: (client: pg.Client) => Promise<T>, database = DATABASE): Promise<T> {
  const client = await connect('postgres', cluster.password, database);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// The cluster is this file's own, so one run is enough: the pglite project always exists, the
// postgres one only with TEST_DATABASE_URL.
describe.runIf(testDatabaseKind() === 'pglite')('the server on a PostgreSQL that requires TLS', () => {
  beforeAll(async () => {
    cluster = await startTlsPostgres();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-tls-'));
    await asMaster((c) => c.query(`CREATE DATABASE ${DATABASE}`).then(() => undefined), 'postgres');
  });
  afterAll(() => {
    cluster?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const appPassword = `app-${randomBytes(9).toString('base64url')}'"\\`;

  it('in prod, verifies the certificate by default, migrates as the master and serves as its own role', async () => {
    const diagnostics = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-diagnostics-'));
    const admin = { username: 'ops', password: randomBytes(12).toString('base64') };
    const run = await startServer(
      {
        DATABASE_URL: url(APP_ROLE, appPassword),
        DATABASE_ADMIN_URL: url('postgres', cluster.password),
        DATABASE_CA_FILE: cluster.caFile,
        ADMIN_CREDENTIALS: JSON.stringify(admin),
      },
      DIAGNOSTIC_ARGS(diagnostics),
    );
    try {
      expect(run.url, run.output).toBeDefined();
      expect((await request(`${run.url}/health`)).statusCode).toBe(200);
      // Ready: the database answers the application role and every migration is applied.
      expect((await request(`${run.url}/ready`)).statusCode).toBe(200);
      expect(run.output).toContain('"msg":"application database role ready"');
      expect(run.output).toContain('"created":true');
      expect(run.output).not.toContain(appPassword);
      expect(run.output).not.toContain(cluster.password);

      // The master login is gone once the server serves: from its environment (what a crash report,
      // a child process or process.env would show), from the bytes it started with, and from every
      // object it still holds (config, app state, closed pools). The application's login stays in
      // all three, which shows each of them would have shown the master's.
      const held = await diagnose(run, diagnostics);
      const appLogin = encodeURIComponent(appPassword);
      expect(Object.keys(held.report.environmentVariables)).not.toContain('DATABASE_ADMIN_URL');
      expect(held.report.environmentVariables.DATABASE_URL).toBe(url(APP_ROLE, appPassword));
      expect(held.reportText).not.toContain(cluster.password);
      expect(held.environ).toContain(appLogin);
      expect(held.environ).not.toContain(cluster.password);
      expect(held.environ.split('\0')).toContain('DATABASE_ADMIN_URL=');
      expect(held.heap).toContain(appLogin);
      expect(held.heap).not.toContain(cluster.password);
      // And it still serves, as the application role: an admin signs in and creates a user.
      const login = await request(`${run.url}/admin/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
      expect(login.statusCode).toBe(200);
      const { access_token: token } = (await login.body.json()) as { access_token: string };
      const created = await request(`${run.url}/admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: 'after-start-up' }),
      });
      expect(created.statusCode, await created.body.text()).toBe(201);
      expect(await asMaster(async (c) => (await c.query("SELECT count(*)::int AS n FROM users WHERE name = 'after-start-up'")).rows[0])).toEqual({ n: 1 });

      // Every connection of the server is the application role's, and encrypted.
      const sessions = await asMaster(async (c) =>
        (await c.query<{ usename: string; ssl: boolean }>(
          `SELECT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'`,
          [DATABASE],
        )).rows,
      );
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.every((s) => s.usename === APP_ROLE && s.ssl), JSON.stringify(sessions)).toBe(true);
      // The master's password never reached the server's statements: the role's is a SCRAM verifier.
      const stored = await asMaster(async (c) => (await c.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [APP_ROLE])).rows[0]);
      expect(stored?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    } finally {
      await run.stop();
      fs.rmSync(diagnostics, { recursive: true, force: true });
    }
  }, 120_000);

  it('leaves the application role able to read and write rows and nothing more', async () => {
    const app = await connect(APP_ROLE, appPassword);
    try {
      const user = await app.query<{ id: string }>("INSERT INTO users (name) VALUES ('tls-test') RETURNING id");
      expect(user.rows).toHaveLength(1);
      await app.query("UPDATE users SET description = 'updated' WHERE id = $1", [user.rows[0]!.id]);
      // An identity column: the sequence is usable.
      const price = await app.query<{ id: string }>(
        `INSERT INTO model_prices (model, provider, input_usd_per_mtok, output_usd_per_mtok, cache_write_5m_usd_per_mtok, cache_write_1h_usd_per_mtok, cache_read_usd_per_mtok, effective_from)
         VALUES ('tls-test-model', 'anthropic', 1, 2, 3, 4, 5, now()) RETURNING id`,
      );
      expect(price.rows).toHaveLength(1);
      await app.query('DELETE FROM model_prices WHERE id = $1', [price.rows[0]!.id]);
      // LISTEN/NOTIFY, which every task relies on, needs nothing beyond the connection.
      await app.query('LISTEN tls_test');
      const heard = new Promise<string | undefined>((resolve) => app.once('notification', (m) => resolve(m.payload)));
      await app.query("SELECT pg_notify('tls_test', 'hello')");
      expect(await heard).toBe('hello');

      for (const [statement, refusal] of [
        ['CREATE TABLE intruder (a int)', /permission denied for schema public/],
        ['CREATE TEMP TABLE intruder (a int)', /permission denied to create temporary tables/],
        ['DROP TABLE users', /must be owner of table users/],
        ['ALTER TABLE users ADD COLUMN intruder int', /must be owner of table users/],
        ['TRUNCATE usage_events', /permission denied for table usage_events/],
        ['CREATE ROLE intruder', /permission denied to create role/],
        [`CREATE DATABASE intruder`, /permission denied to create database/],
        ['CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', /permission denied for schema public/],
      ] as const) {
        await expect(app.query(statement), statement).rejects.toThrow(refusal);
      }
      const attributes = await app.query('SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user');
      expect(attributes.rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false }]);
    } finally {
      await app.end();
    }
  });

  it('covers tables a later migration adds, and sets the password DATABASE_URL carries on the next start', async () => {
    // A table the master creates after the role was set up (as a later migration would).
    await asMaster((c) => c.query('CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)').then(() => undefined));
    const app = await connect(APP_ROLE, appPassword);
    try {
      await app.query("INSERT INTO later_table (note) VALUES ('default privileges')");
      expect((await app.query('SELECT note FROM later_table')).rows).toEqual([{ note: 'default privileges' }]);
    } finally {
      await app.end();
      await asMaster((c) => c.query('DROP TABLE later_table').then(() => undefined));
    }

    const newPassword = `rotated-${randomBytes(9).toString('base64url')}`;
    const run = await startServer({
      DATABASE_URL: url(APP_ROLE, newPassword),
      DATABASE_ADMIN_URL: url('postgres', cluster.password),
      DATABASE_CA_FILE: cluster.caFile,
    });
    try {
      expect(run.url, run.output).toBeDefined();
      expect((await request(`${run.url}/ready`)).statusCode).toBe(200);
      expect(run.output).toContain('"created":false');
    } finally {
      await run.stop();
    }
    await expect(connect(APP_ROLE, appPassword)).rejects.toThrow(/password authentication failed/);
    await (await connect(APP_ROLE, newPassword)).end();
  });

  it('refuses a certificate that does not chain to DATABASE_CA_FILE', async () => {
    const run = await startServer({ DATABASE_URL: url(APP_ROLE, appPassword), DATABASE_CA_FILE: cluster.wrongCaFile });
    expect(run.url, run.output).toBeUndefined();
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      `database: the database's TLS certificate was refused (DATABASE_SSL_MODE=verify-full, checked against DATABASE_CA_FILE ${cluster.wrongCaFile}): unable to verify the first certificate`,
    );
  });

  it('refuses a certificate that does not name the host it dialled', async () => {
    const run = await startServer({ DATABASE_URL: url(APP_ROLE, appPassword, cluster.unnamedHost), DATABASE_CA_FILE: cluster.caFile });
    expect(run.url, run.output).toBeUndefined();
    expect(run.output).toMatch(/database: the database's TLS certificate was refused .*Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.2/);
  });

  it('verifies with verify-full however the URL weakens it', async () => {
    // The URL asks for less; DATABASE_SSL_MODE (and prod) asks for more, and the stricter wins.
    const run = await startServer({
      DATABASE_URL: `${url(APP_ROLE, appPassword)}?sslmode=require`,
      DATABASE_SSL_MODE: 'verify-full',
      DATABASE_CA_FILE: cluster.wrongCaFile,
    });
    expect(run.url, run.output).toBeUndefined();
    expect(run.output).toContain("the database's TLS certificate was refused");
  });

  it('in prod, will not start without TLS verification', async () => {
    const disabled = await startServer({ DATABASE_URL: url(APP_ROLE, appPassword), DATABASE_SSL_MODE: 'disable', DATABASE_CA_FILE: cluster.caFile });
    expect(disabled.code).toBe(1);
    expect(disabled.output).toContain('DATABASE_SSL_MODE: must be verify-full when ENVIRONMENT=prod (got disable)');
    const noCa = await startServer({ DATABASE_URL: url(APP_ROLE, appPassword) });
    expect(noCa.code).toBe(1);
    expect(noCa.output).toContain('DATABASE_CA_FILE: required when ENVIRONMENT=prod');
  });

  it('outside prod, disable is plaintext, which this server turns away', async () => {
    const run = await startServer({ ENVIRONMENT: 'staging', DATABASE_URL: url(APP_ROLE, appPassword), DATABASE_SSL_MODE: 'disable' });
    expect(run.url, run.output).toBeUndefined();
    expect(run.code).toBe(1);
    expect(run.output).toContain('no encryption');
  });
});
