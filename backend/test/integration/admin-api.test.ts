import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';

let proxy: TestApp;
let fake: FakeAnthropic;
let token: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

async function call(method: string, path: string, body?: unknown, auth: string | null = token) {
  const res = await request(`${proxy.url}${path}`, {
    method: method as 'GET',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

describe('login', () => {
  it('exchanges the admin credentials for a 12-hour bearer token', async () => {
    const res = await call('POST', '/admin/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', access_token: expect.stringMatching(/^ey/) });
    expect(Date.parse(res.body.expires_at) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    token = res.body.access_token;
  });

  it.each([
    [{ username: 'admin', password: 'wrong' }, 401, 'authentication_error', /invalid username or password/],
    [{ username: 'root', password: ADMIN_PASSWORD }, 401, 'authentication_error', /invalid username or password/],
    [{ username: 'admin' }, 400, 'invalid_request_error', /^password: is required$/],
    [{ username: 'admin', password: ADMIN_PASSWORD, extra: 1 }, 400, 'invalid_request_error', /^extra: is not a known field$/],
  ])('refuses %o', async (body, status, type, message) => {
    const res = await call('POST', '/admin/auth/login', body, null);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe(type);
    expect(res.body.error.message).toMatch(message);
  });

  it('guards every other admin route', async () => {
    for (const auth of [null, 'not-a-jwt', `${token.slice(0, -4)}AAAA`]) {
      const res = await call('GET', '/admin/users', undefined, auth);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { type: 'authentication_error', message: 'a valid admin token is required' } });
    }
  });
});

describe('users and access keys', () => {
  let userId: string;
  let keyId: string;
  let rawKey: string;

  it('creates a user', async () => {
    const res = await call('POST', '/admin/users', { name: 'alice', description: 'platform team' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'alice', description: 'platform team', status: 'active', routing_strategy: 'plan_first', monthly_budget_usd: null });
    userId = res.body.id;
  });

  it('rejects bad user input naming the field', async () => {
    expect((await call('POST', '/admin/users', { name: '' })).body.error.message).toMatch(/^name: /);
    expect((await call('POST', '/admin/users', { name: 'ALICE' })).status).toBe(409);
    expect((await call('POST', '/admin/users', '{"name":')).status).toBe(400);
    expect((await call('GET', '/admin/users/not-a-uuid')).body.error.message).toMatch(/^id: /);
    expect((await call('GET', '/admin/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists users with paging and a total', async () => {
    await call('POST', '/admin/users', { name: 'bob' });
    await call('POST', '/admin/users', { name: 'carol' });
    const page = await call('GET', '/admin/users?limit=2&offset=1');
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(3);
    expect(page.body.items.map((u: { name: string }) => u.name)).toEqual(['bob', 'carol']);
    expect((await call('GET', '/admin/users?limit=0')).body.error.message).toMatch(/^limit: /);
  });

  it('issues an access key, showing the raw key only once', async () => {
    const res = await call('POST', `/admin/users/${userId}/access-keys`, { bedrock_region: 'us-east-1' });
    expect(res.status).toBe(201);
    expect(res.body.raw_key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ user_id: userId, status: 'active', bedrock_region: 'us-east-1', key_prefix: res.body.raw_key.slice(0, 11) });
    expect(res.body).not.toHaveProperty('key_hash');
    ({ id: keyId, raw_key: rawKey } = res.body as { id: string; raw_key: string });

    const list = await call('GET', `/admin/users/${userId}/access-keys`);
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(rawKey);
    expect(list.body.items[0]).not.toHaveProperty('key_hash');
    expect((await call('POST', `/admin/users/${userId}/access-keys`, { bedrock_region: 'mars' })).body.error.message).toMatch(/^bedrock_region: /);
  });

  it('revoking a key stops it at the proxy at once', async () => {
    const use = () =>
      request(`${proxy.url}/ak/${rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 5, messages: [] }) });
    const before = await use();
    await before.body.arrayBuffer();
    expect(before.statusCode).toBe(200);

    expect((await call('DELETE', `/admin/access-keys/${keyId}`)).status).toBe(204);
    const after = await use();
    expect(after.statusCode).toBe(401);
    expect(((await after.body.json()) as { error: { type: string } }).error.type).toBe('authentication_error');

    const list = await call('GET', `/admin/users/${userId}/access-keys`);
    expect(list.body.items[0]).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    expect((await call('DELETE', '/admin/access-keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('answers unknown admin routes with a JSON 404', async () => {
    const res = await call('GET', '/admin/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('not_found_error');
  });
});
