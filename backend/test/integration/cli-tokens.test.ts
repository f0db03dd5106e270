import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { runCli, type CliRun } from '../support/cli.ts';

// `ccproxy tokens create|list|revoke`: an admin (logged in with the password) makes an automation
// token, a script uses it through CCPROXY_TOKEN (from a config directory with no login in it), the
// list shows its last use, and once revoked the script gets 401.

let proxy: TestApp;
let adminDir: string;
let scriptDir: string;

beforeAll(async () => {
  proxy = await startTestApp();
  adminDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-tokens-admin-'));
  scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-tokens-script-'));
  expect((await runCli({ url: proxy.url, configDir: adminDir }, ['login'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(adminDir, { recursive: true, force: true });
  fs.rmSync(scriptDir, { recursive: true, force: true });
});

/** The admin, logged in with the password. */
const admin = (args: string[]) => runCli({ url: proxy.url, configDir: adminDir }, args);
const adminJson = async <T = Record<string, any>>(args: string[]): Promise<T> => {
  const res = await admin([...args, '--json']);
  if (res.code !== 0) throw new Error(`ccproxy ${args.join(' ')}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
};

/** A script with only CCPROXY_TOKEN (runCli hands the child this process's environment as it spawns). */
function script(token: string, args: string[]): Promise<CliRun> {
  process.env.CCPROXY_TOKEN = token;
  try {
    return runCli({ url: proxy.url, configDir: scriptDir }, args);
  } finally {
    delete process.env.CCPROXY_TOKEN;
  }
}

interface Listed {
  id: string;
  name: string;
  role: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
const listed = async (): Promise<Listed[]> => (await adminJson<{ items: Listed[] }>(['tokens', 'list'])).items;

describe('ccproxy tokens', () => {
  let token = '';
  let tokenId = '';

  it('creates a token and prints it once, with its id and how a script uses it', async () => {
    const created = await admin(['tokens', 'create', 'ci-bot', '--role', 'admin', '--days', '30']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    token = /ccp_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0] ?? '';
    tokenId = /Token id: ([0-9a-f-]{36})/.exec(created.stdout)?.[1] ?? '';
    expect(token).not.toBe('');
    expect(tokenId).not.toBe('');
    expect(created.stdout).toMatch(/^Automation token ci-bot, role admin, until \S+Z \(shown only now\):/);
    expect(created.stdout).toContain(`export CCPROXY_TOKEN=${token}`);
    // Shown once: the list never has it.
    const all = await admin(['tokens', 'list', '--json']);
    expect(all.stdout).not.toContain(token);
    expect((await listed()).find((t) => t.id === tokenId)).toMatchObject({ name: 'ci-bot', role: 'admin', last_used_at: null, revoked_at: null });
  });

  it('lets a script act with it through CCPROXY_TOKEN, named in the audit log, and lists its last use', async () => {
    // The script's own config directory has no login: only the token can let it in.
    expect((await runCli({ url: proxy.url, configDir: scriptDir }, ['users', 'list'])).stderr).toMatch(/not logged in/);
    const made = await script(token, ['users', 'add', 'made-by-ci', '--json']);
    expect(made.stderr).toBe('');
    const user = JSON.parse(made.stdout) as { id: string };
    const audit = await adminJson<{ items: { actor: string; action: string }[] }>(['audit', '--target', user.id]);
    expect(audit.items.map((e) => [e.actor, e.action])).toEqual([['token:ci-bot', 'user.create']]);

    expect((await listed()).find((t) => t.id === tokenId)!.last_used_at).not.toBeNull();
    const table = (await admin(['tokens', 'list'])).stdout.split('\n');
    expect(table[0]).toMatch(/^id\s+name\s+role\s+status\s+token_prefix\s+created_by\s+created_at\s+expires_at\s+last_used_at\s+revoked_at$/);
    const row = table.find((line) => line.startsWith(tokenId))!;
    expect(row).toMatch(new RegExp(`^${tokenId}\\s+ci-bot\\s+admin\\s+active\\s+${token.slice(0, 12)}\\s+admin\\s+\\S+Z\\s+\\S+Z\\s+\\S+Z$`));
  });

  it('revokes it by name: the script is refused with 401 at once', async () => {
    const revoked = await admin(['tokens', 'revoke', 'ci-bot']);
    expect(revoked.stdout).toBe(`Revoked automation token ci-bot (${tokenId}): it stops working at once, on every task\n`);
    const refused = await script(token, ['users', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ccproxy: 401: /);
    expect((await listed()).find((t) => t.id === tokenId)!.revoked_at).not.toBeNull();
    expect((await admin(['tokens', 'list'])).stdout).toMatch(new RegExp(`^${tokenId}\\s+ci-bot\\s+admin\\s+revoked\\s`, 'm'));
    expect((await admin(['tokens', 'revoke', tokenId])).stdout).toMatch(/^Automation token ci-bot \(.+\) was already revoked at \S+Z$/m);
  });

  it('names a token by id, name or prefix, and says which tokens a shared name means', async () => {
    const first = await adminJson(['tokens', 'create', 'nightly', '--role', 'viewer', '--days', '1']);
    const second = await adminJson(['tokens', 'create', 'nightly', '--role', 'viewer', '--days', '2']);
    const ambiguous = await admin(['tokens', 'revoke', 'nightly']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('"nightly" names 2 tokens');
    expect(ambiguous.stderr).toContain(first.id);
    expect(ambiguous.stderr).toContain(second.id);
    expect((await admin(['tokens', 'revoke', first.token.slice(0, 16)])).stdout).toContain(`Revoked automation token nightly (${first.id})`);
    // With the other revoked, the name means the live one.
    expect((await admin(['tokens', 'revoke', 'NIGHTLY'])).stdout).toContain(`Revoked automation token nightly (${second.id})`);
    expect((await admin(['tokens', 'revoke', 'no-such-token'])).stderr).toMatch(/no automation token named "no-such-token"/);
  });

  it('explains bad input, and is for admins only', async () => {
    expect((await admin(['tokens', 'create', 'x', '--days', '5'])).stderr).toMatch(/missing --role admin\|viewer\|scim/);
    expect((await admin(['tokens', 'create', 'x', '--role', 'developer', '--days', '5'])).stderr).toMatch(/--role must be one of admin, viewer, scim \(got "developer"\)/);
    expect((await admin(['tokens', 'create', 'x', '--role', 'viewer'])).stderr).toMatch(/missing --days n/);
    expect((await admin(['tokens', 'create', 'x', '--role', 'viewer', '--days', 'soon'])).stderr).toMatch(/--days must be a whole number of days/);
    expect((await admin(['tokens', 'create', 'x', '--role', 'viewer', '--days', '400'])).stderr).toMatch(/400: expires_in_days: /);
    expect((await admin(['tokens', 'create'])).stderr).toMatch(/missing token name/);

    const viewer = await adminJson(['tokens', 'create', 'reader', '--role', 'viewer', '--days', '1']);
    const refused = await script(viewer.token, ['tokens', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403: role viewer may not GET \/admin\/tokens/);
  });

  it('tells where a scim token goes: the SCIM base URL, not CCPROXY_TOKEN', async () => {
    const created = await admin(['tokens', 'create', 'okta', '--role', 'scim', '--days', '366']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`base URL ${proxy.url}/scim/v2`);
    expect(created.stdout).not.toContain('CCPROXY_TOKEN');
  });
});
