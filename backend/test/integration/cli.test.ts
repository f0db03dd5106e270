import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';

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

function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--url', proxy.url], { env: { ...process.env, CCPROXY_CONFIG_DIR: configDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

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
