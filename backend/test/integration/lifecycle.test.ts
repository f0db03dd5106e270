import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { encodeSse, messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';

const main = path.join(import.meta.dirname, '../../src/main.ts');
const ADMIN = { username: 'ops', password: 'lifecycle-test-password' };

interface Server {
  child: ChildProcess;
  url: Promise<string>;
  output: () => string;
  exit: Promise<number | null>;
}

/** The real `npm start` entry point, as a process, on an embedded database in `dataDir`. */
function startServer(dataDir: string, env: Record<string, string> = {}): Server {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_CREDENTIALS: JSON.stringify(ADMIN),
      SHUTDOWN_DRAIN_SECONDS: '20',
      SHUTDOWN_DELAY_SECONDS: '0',
      ...env,
    },
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`server exited before listening:\n${output}`)));
  });
  url.catch(() => {});
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, output: () => output, exit };
}

let fake: FakeAnthropic;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-life-'));
});
afterAll(async () => {
  await fake.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the server process', () => {
  it('stops at start-up with one line naming a bad variable', async () => {
    const server = startServer(dataDir, { PORT: 'eighty' });
    expect(await server.exit).toBe(1);
    expect(server.output().trim()).toBe('claude-code-proxy: PORT: must be an integer from 0 to 65535 (got "eighty")');
  });

  it('finishes in-flight streams on SIGTERM, flushes usage, exits 0; a second process cannot share its database', { timeout: 60_000 }, async () => {
    const server = startServer(dataDir, { PLAN_API_URL: fake.url });
    const url = await server.url;
    expect(server.output()).toContain('Generated KEY_HASHER_SECRET');
    // Not the CLI's default address: the banner gives the dashboard and the exact --url.
    expect(server.output()).toContain(`  Dashboard:    ${url}/\n`);
    expect(server.output()).toContain(`  Issue a key:  npx ccproxy login --url ${url}\n`);
    expect(server.output()).toContain(`"timezone":"UTC"`);

    const second = startServer(dataDir, { PLAN_API_URL: fake.url });
    expect(await second.exit).toBe(1);
    expect(second.output()).toMatch(/database: the embedded database in .* is in use by process \d+/);

    const login = await request(`${url}/admin/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { access_token: token } = (await login.body.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const user = (await (await request(`${url}/admin/users`, { method: 'POST', headers: auth, body: '{"name":"drain"}' })).body.json()) as { id: string };
    const key = (await (await request(`${url}/admin/users/${user.id}/access-keys`, { method: 'POST', headers: auth, body: '{}' })).body.json()) as { raw_key: string };

    const events = messageToEvents(textMessage({ text: 'a slow answer in many parts' }), { textChunks: 10 });
    fake.reply({ kind: 'stream', events, delayMs: 100 });
    const res = await request(`${url}/ak/${key.raw_key}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test' },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      res.body.on('data', (c: Buffer) => chunks.push(c));
      res.body.on('end', resolve);
      res.body.on('error', reject);
    });
    await new Promise<void>((resolve) => res.body.once('data', () => resolve()));
    server.child.kill('SIGTERM');

    await done;
    expect(Buffer.concat(chunks).equals(encodeSse(events))).toBe(true); // the whole stream, message_stop included
    expect(await server.exit).toBe(0);
    expect(server.output()).toContain('shutdown complete');

    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const rows = await database.db.select().from(usageEvents);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ outcome: 'completed', stream: true, userId: user.id });
    } finally {
      await database.close();
    }
  });

  it('keeps the time zone its rollups were written in, and refuses another TIMEZONE in one line', { timeout: 60_000 }, async () => {
    // dataDir now holds the rollups of the request above, cut in UTC (the default for a new database).
    const berlin = startServer(dataDir, { PLAN_API_URL: fake.url, TIMEZONE: 'Europe/Berlin' });
    expect(await berlin.exit).toBe(1);
    expect(berlin.output().trim().split('\n').at(-1)).toBe(
      "claude-code-proxy: TIMEZONE: this database's usage rollups and budget months are in UTC; Europe/Berlin would mix day and month buckets of two zones. Unset TIMEZONE or set it to UTC",
    );

    // A database from before the zone was recorded, with rollups: they are taken to be in the old
    // default, Asia/Seoul, unless TIMEZONE names their zone; a zone whose midnight does not match
    // their day buckets is refused.
    const database = await openDatabase({ kind: 'pglite', dataDir });
    await database.withSession((s) => s.exec('UPDATE settings SET time_zone = NULL'));
    await database.close();
    const guessed = startServer(dataDir, { PLAN_API_URL: fake.url });
    expect(await guessed.exit).toBe(1);
    expect(guessed.output().trim().split('\n').at(-1)).toBe(
      'claude-code-proxy: TIMEZONE: the usage rollups in this database were not cut in Asia/Seoul (their days start at 00:00 UTC); set TIMEZONE to the zone they were written in',
    );
    const named = startServer(dataDir, { PLAN_API_URL: fake.url, TIMEZONE: 'UTC' });
    await named.url;
    expect(named.output()).toContain('"timezone":"UTC","msg":"recorded the time zone of the rollups already in this database"');
    named.child.kill('SIGTERM');
    expect(await named.exit).toBe(0);

    // From now on that is the zone, with TIMEZONE unset too.
    const unset = startServer(dataDir, { PLAN_API_URL: fake.url });
    await unset.url;
    expect(unset.output()).toMatch(/"timezone":"UTC","msg":"claude-code-proxy listening"/);
    unset.child.kill('SIGTERM');
    expect(await unset.exit).toBe(0);
  });

  it('says in one line that the port is in use, before it creates anything', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    const fresh = path.join(dataDir, 'never-created');
    try {
      const server = startServer(fresh, { PORT: String(port), ADMIN_CREDENTIALS: '' }); // unset: a first start would generate a password
      expect(await server.exit).toBe(1);
      expect(server.output()).toBe(`claude-code-proxy: Port ${port} on 127.0.0.1 is in use; set PORT=<another port> or stop the other process\n`);
      expect(fs.existsSync(fresh)).toBe(false); // no data directory, database, secrets file or admin password
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('keeps serving when nobody reads its output any more (a closed pipe), and still exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-life-pipe-'));
    try {
      const server = startServer(ownDir, { PLAN_API_URL: fake.url, PORT: String(port) });
      server.child.stdout!.destroy(); // like `npm start | head -1` once head has its line
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await request(`${url}/health`)).statusCode === 200, server.exit);
      for (let i = 0; i < 5; i++) {
        const res = await request(`${url}/ak/ak_unknown/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(res.statusCode).toBe(401); // each one writes an access line to the closed pipe
        await res.body.dump();
      }
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
    } finally {
      fs.rmSync(ownDir, { recursive: true, force: true });
    }
  });
});

/** A port nobody listens on right now (the server under test must be told its port up front here). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Polls `check` until it holds; fails at once if the process exits first. */
async function waitFor(check: () => Promise<boolean>, exit: Promise<number | null>): Promise<void> {
  let exited: number | null | undefined;
  void exit.then((code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`the server exited with ${exited} before it answered`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
