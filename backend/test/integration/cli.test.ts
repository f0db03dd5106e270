import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

const bin = path.join(import.meta.dirname, '../../bin/ccproxy.js');
let proxy: TestApp;
let configDir: string;

beforeAll(async () => {
  proxy = await startTestApp();
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-cli-'));
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(configDir, { recursive: true, force: true });
});

const cli = (args: string[], stdin = '') => runCli({ url: proxy.url, configDir }, args, stdin);

describe('ccproxy CLI', () => {
  it('refuses to work before login, and logs in with the password from standard input', async () => {
    const before = await cli(['users', 'list']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/not logged in/);
    expect((await cli(['login'], 'wrong\n')).stderr).toMatch(/401: invalid username or password/);
    const ok = await cli(['login'], `${ADMIN_PASSWORD}\n`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Logged in/);
    const stored = fs.readFileSync(path.join(configDir, 'credentials.json'), 'utf8');
    expect(stored).not.toContain(ADMIN_PASSWORD);
    expect(fs.statSync(path.join(configDir, 'credentials.json')).mode & 0o077).toBe(0);
  });

  it('adds and lists users, issues, lists and revokes keys', async () => {
    const add = await cli(['users', 'add', 'dana', '--json']);
    expect(add.code).toBe(0);
    const user = JSON.parse(add.stdout) as { id: string; name: string };
    expect(user.name).toBe('dana');

    const list = await cli(['users', 'list']);
    expect(list.stdout).toMatch(/dana/);
    expect(list.stdout).toMatch(/1 user\(s\)/);

    const issued = await cli(['keys', 'issue', 'dana']);
    expect(issued.code).toBe(0);
    const rawKey = /ak_[A-Za-z0-9_-]{43}/.exec(issued.stdout)?.[0];
    expect(rawKey).toBeDefined();
    expect(issued.stdout).toContain(`ANTHROPIC_BASE_URL=${proxy.url}/ak/${rawKey}`);

    const keys = JSON.parse((await cli(['keys', 'list', user.id, '--json'])).stdout) as { items: { id: string; status: string }[] };
    expect(keys.items).toHaveLength(1);
    const revoked = await cli(['keys', 'revoke', keys.items[0]!.id]);
    expect(revoked.code).toBe(0);
    const after = JSON.parse((await cli(['keys', 'list', 'dana', '--json'])).stdout) as { items: { status: string }[] };
    expect(after.items[0]!.status).toBe('revoked');
  });

  it('explains mistakes instead of crashing', async () => {
    expect((await cli(['keys', 'issue', 'nobody'])).stderr).toMatch(/no user named "nobody"/);
    expect((await cli(['frobnicate'])).stderr).toMatch(/unknown command/);
    const down = await new Promise<{ stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'users', 'list', '--url', 'http://127.0.0.1:9'], { env: { ...process.env, CCPROXY_TOKEN: 'x' } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', () => resolve({ stderr }));
    });
    expect(down.stderr).toMatch(/cannot reach http:\/\/127.0.0.1:9: ECONNREFUSED/);
  });
});

describe('ccproxy keys bedrock and users set', () => {
  const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS1jbGktdGVzdC1rZXktbW5vcA==';
  let userId: string;
  let keyId: string;

  beforeAll(async () => {
    if ((await cli(['users', 'list'])).code !== 0) await cli(['login'], `${ADMIN_PASSWORD}\n`);
    userId = (JSON.parse((await cli(['users', 'add', 'erin', '--json'])).stdout) as { id: string }).id;
    keyId = (JSON.parse((await cli(['keys', 'issue', 'erin', '--json'])).stdout) as { id: string }).id;
  });

  it('sets the Bedrock API key from standard input and shows only its last four characters', async () => {
    const set = await cli(['keys', 'bedrock', keyId], `${BEDROCK_KEY}\n`);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`Bedrock API key set for access key ${keyId} (ends in …${BEDROCK_KEY.slice(-4)})\n`);
    expect(set.stdout + set.stderr).not.toContain(BEDROCK_KEY);
    expect(await proxy.app.bedrockKeys.get(keyId)).toBe(BEDROCK_KEY);

    const json = await cli(['keys', 'bedrock', keyId, '--json'], BEDROCK_KEY);
    expect(JSON.parse(json.stdout)).toMatchObject({ access_key_id: keyId, configured: true, last4: BEDROCK_KEY.slice(-4) });
    expect(json.stdout).not.toContain(BEDROCK_KEY);
    expect(proxy.logText()).not.toContain(BEDROCK_KEY);
  });

  it('never takes the key from arguments, and says so when standard input is empty', async () => {
    const argv = await cli(['keys', 'bedrock', keyId, BEDROCK_KEY]);
    expect(argv.code).toBe(1);
    expect(argv.stderr).toMatch(/read from standard input, never from arguments/);
    const empty = await cli(['keys', 'bedrock', keyId], '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no Bedrock API key on standard input/);
    expect((await cli(['keys', 'bedrock', keyId], 'short\n')).stderr).toMatch(/400: bedrock_api_key: /);
  });

  it('--delete removes it', async () => {
    const removed = await cli(['keys', 'bedrock', keyId, '--delete']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/Removed the Bedrock API key/);
    expect(await proxy.app.bedrockKeys.get(keyId)).toBeNull();
    expect((await cli(['keys', 'bedrock', keyId, '--delete'])).stderr).toMatch(/404: .*has no Bedrock key/);
  });

  it('users set changes the routing strategy and budget by user name', async () => {
    const set = await cli(['users', 'set', 'erin', '--routing', 'bedrock_only', '--budget', '150']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`Updated user erin (${userId}): routing bedrock_only, monthly budget $150.0000\n`);
    const user = JSON.parse((await cli(['users', 'set', userId, '--budget', 'none', '--description', 'data team', '--json'])).stdout) as Record<string, unknown>;
    expect(user).toMatchObject({ id: userId, routing_strategy: 'bedrock_only', monthly_budget_usd: null, description: 'data team' });
    const renamed = await cli(['users', 'set', 'erin', '--name', 'erin-b', '--routing', 'plan_first']);
    expect(renamed.stdout).toMatch(/Updated user erin-b .*routing plan_first/);
  });

  it('users set explains bad input', async () => {
    expect((await cli(['users', 'set', 'erin-b', '--routing', 'sometimes'])).stderr).toMatch(/--routing must be one of plan_first, bedrock_only, plan_only/);
    expect((await cli(['users', 'set', 'erin-b'])).stderr).toMatch(/nothing to change/);
    expect((await cli(['users', 'set', 'erin-b', '--budget=-3'])).stderr).toMatch(/400: monthly_budget_usd: /);
    expect((await cli(['users', 'set', 'nobody', '--routing', 'plan_only'])).stderr).toMatch(/no user named "nobody"/);
  });

  it('users set-email gives a user (by name or id) the email company sign-in links to, shows it, and "-" removes it', async () => {
    const set = await cli(['users', 'set-email', 'erin-b', 'Erin@Example.com']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`User erin-b (${userId}) has email Erin@Example.com\n`);
    const got = JSON.parse((await cli(['users', 'get', 'erin-b', '--json'])).stdout) as Record<string, unknown>;
    expect(got).toMatchObject({ id: userId, email: 'Erin@Example.com' });
    expect((await cli(['users', 'list'])).stdout).toMatch(/erin-b\s+Erin@Example\.com\s+active/);

    const cleared = await cli(['users', 'set-email', userId, '-', '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ user_id: userId, email: null });
    expect((await cli(['users', 'get', userId])).stdout).not.toContain('Erin@Example.com');

    expect((await cli(['users', 'set-email', 'erin-b'])).stderr).toMatch(/missing email \(or "-" to remove it\)/);
    expect((await cli(['users', 'set-email', 'erin-b', 'not-an-email'])).stderr).toMatch(/400: email: /);
    expect((await cli(['users', 'set-email', 'nobody', 'x@example.com'])).stderr).toMatch(/no user named "nobody"/);
  });
});
