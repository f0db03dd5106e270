import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../../src/db/schema.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

// Automation tokens: created by an admin with a role and an expiry, shown once, stored as SHA-256,
// accepted as a bearer token (and by the CLI through CCPROXY_TOKEN), named in the audit log,
// listed with their last use, refused once revoked or expired.

let proxy: TestApp;
let call: AdminCall;

beforeAll(async () => {
  proxy = await startTestApp();
  call = await adminClient(proxy);
});
afterAll(() => proxy.close());

async function createToken(name: string, role: 'admin' | 'viewer', days = 30) {
  const res = await call('POST', '/admin/tokens', { name, role, expires_in_days: days });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string; token_prefix: string; expires_at: string; created_by: string };
}

describe('automation tokens', () => {
  it('are shown once and kept only as their SHA-256', async () => {
    const created = await createToken('ci-viewer', 'viewer');
    expect(created.token).toMatch(/^ccp_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ role: 'viewer', created_by: 'admin', token_prefix: created.token.slice(0, 12), last_used_at: null, revoked_at: null });
    expect(Date.parse(created.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const list = await call('GET', '/admin/tokens');
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    const [row] = await proxy.database.db.select({ tokenHash: apiTokens.tokenHash }).from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row!.tokenHash).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(await auditOf(proxy, created.id))).not.toContain(created.token);
  });

  it('act with their role, are named in the audit log, and record their last use', async () => {
    const viewer = await createToken('ci-reader', 'viewer');
    const session = await call('GET', '/admin/auth/session', undefined, { token: viewer.token });
    expect(session.body).toMatchObject({ username: 'token:ci-reader', role: 'viewer', user_id: null });
    expect((await call('GET', '/admin/users', undefined, { token: viewer.token })).status).toBe(200);
    const refused = await call('POST', '/admin/users', { name: 'not-by-a-viewer' }, { token: viewer.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('role viewer may not');

    const admin = await createToken('ci-admin', 'admin');
    const user = await call('POST', '/admin/users', { name: 'made-by-ci' }, { token: admin.token });
    expect(user.status).toBe(201);
    expect((await auditOf(proxy, user.body.id)).map((e) => e.actor)).toEqual(['token:ci-admin']);
    // A token is no admin of tokens' lifetimes by logging out: it keeps working until revoked.
    expect((await call('POST', '/admin/auth/logout', undefined, { token: admin.token })).status).toBe(204);
    expect((await call('GET', '/admin/users', undefined, { token: admin.token })).status).toBe(200);

    const listed = (await call('GET', '/admin/tokens')).body.items as { id: string; last_used_at: string | null }[];
    expect(listed.find((t) => t.id === admin.id)!.last_used_at).not.toBeNull();
  });

  it('stop working when revoked, expired or altered', async () => {
    const revoked = await createToken('to-revoke', 'admin');
    expect((await call('DELETE', `/admin/tokens/${revoked.id}`)).status).toBe(204);
    expect((await call('GET', '/admin/users', undefined, { token: revoked.token })).status).toBe(401);
    expect((await auditOf(proxy, revoked.id)).map((e) => e.action)).toEqual(['api_token.create', 'api_token.revoke']);
    expect((await call('DELETE', '/admin/tokens/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    const expired = await createToken('to-expire', 'admin');
    await proxy.database.db.execute(sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`);
    expect((await call('GET', '/admin/users', undefined, { token: expired.token })).status).toBe(401);

    const live = await createToken('to-alter', 'admin');
    const altered = `${live.token.slice(0, -1)}${live.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await call('GET', '/admin/users', undefined, { token: altered })).status).toBe(401);
    // Only as a bearer token: a cookie carrying one is no session.
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: { cookie: `ccproxy_admin_session=${live.token}` } })).status).toBe(401);
  });

  it('are for admins to make', async () => {
    const viewer = await createToken('cannot-mint', 'viewer');
    expect((await call('POST', '/admin/tokens', { name: 'x', role: 'admin', expires_in_days: 1 }, { token: viewer.token })).status).toBe(403);
    expect((await call('GET', '/admin/tokens', undefined, { token: viewer.token })).status).toBe(403);
    const bad = await call('POST', '/admin/tokens', { name: 'x', role: 'developer', expires_in_days: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^role: /);
    expect((await call('POST', '/admin/tokens', { name: 'x', role: 'admin', expires_in_days: 0 })).body.error.message).toMatch(/^expires_in_days: /);
  });

  it('let the CLI work without logging in (CCPROXY_TOKEN)', async () => {
    const token = await createToken('cli-script', 'admin');
    await call('POST', '/admin/users', { name: 'seen-by-cli' });
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-cli-token-'));
    process.env.CCPROXY_TOKEN = token.token;
    try {
      const run = await runCli({ url: proxy.url, configDir }, ['users', 'list', '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as { items: { name: string }[] }).items.map((u) => u.name)).toContain('seen-by-cli');
      process.env.CCPROXY_TOKEN = `${token.token.slice(0, -2)}xx`;
      const refused = await runCli({ url: proxy.url, configDir }, ['users', 'list']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('401');
    } finally {
      delete process.env.CCPROXY_TOKEN;
    }
  });
});
