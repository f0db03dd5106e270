import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveJwtKey, signPersonToken, type Role } from '../../src/security/jwt.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// Roles over the whole admin surface, driven by the OpenAPI document: every route states its roles,
// a developer gets 403 from every route not theirs, a viewer from every change; a developer's own
// routes act on their user only, and the audit log names the person.

interface Operation {
  method: string;
  path: string;
  description?: string;
  'x-roles'?: Role[];
  requestBody?: unknown;
}

const PUBLIC = new Set(['POST /admin/auth/login', 'POST /admin/auth/logout', 'GET /admin/auth/methods', 'GET /admin/auth/oidc/login', 'GET /admin/auth/oidc/callback']);
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS1yb2xlcy10ZXN0LWtleS05ODc2';
const jwtKey = deriveJwtKey('test-key-hasher-secret-0123456789abcdef');

let proxy: TestApp;
let call: AdminCall;
let operations: Operation[];
let developerUserId: string;
let developer: string;
let viewer: string;

const key = (op: Operation) => `${op.method} ${op.path}`;
const concrete = (path: string) => path.replace(/\{model\}/g, 'claude-x').replace(/\{[^}]+\}/g, UNKNOWN_ID);

beforeAll(async () => {
  proxy = await startTestApp({ DEVELOPER_MAX_KEYS: '2' });
  call = await adminClient(proxy);
  const doc = (await call('GET', '/admin/openapi.json')).body as { paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>> };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })));
  const user = await call('POST', '/admin/users', { name: 'dev-one' });
  developerUserId = user.body.id;
  developer = (await signPersonToken(jwtKey, { username: 'dev.one@example.com', role: 'developer', userId: developerUserId })).token;
  viewer = (await signPersonToken(jwtKey, { username: 'viewer@example.com', role: 'viewer', userId: null })).token;
});
afterAll(() => proxy.close());

describe('the OpenAPI document', () => {
  it('states the roles of every guarded route, as x-roles and in words', () => {
    const guarded = operations.filter((op) => !PUBLIC.has(key(op)));
    expect(guarded.length).toBeGreaterThan(50);
    for (const op of guarded) {
      expect(op['x-roles'], key(op)).toEqual(expect.arrayContaining([expect.stringMatching(/^(admin|viewer|developer)$/)]));
      expect(op['x-roles'], key(op)).toContain('admin');
      expect(op.description, key(op)).toContain(`Roles: ${op['x-roles']!.join(', ')}.`);
    }
  });
});

describe('a developer session', () => {
  it('gets 403 naming the role from every route not open to developers', async () => {
    const closed = operations.filter((op) => !PUBLIC.has(key(op)) && !op['x-roles']!.includes('developer'));
    expect(closed.length).toBeGreaterThan(40);
    for (const op of closed) {
      const res = await call(op.method, concrete(op.path), op.requestBody ? {} : undefined, { token: developer });
      expect(res.status, key(op)).toBe(403);
      expect(res.body.error, key(op)).toEqual({ type: 'permission_error', message: expect.stringContaining('role developer may not') });
    }
  });

  it('reaches the routes open to it', async () => {
    const session = await call('GET', '/admin/auth/session', undefined, { token: developer });
    expect(session.body).toMatchObject({ username: 'dev.one@example.com', role: 'developer', user_id: developerUserId });
    expect((await call('GET', '/admin/me', undefined, { token: developer })).body).toMatchObject({ id: developerUserId, name: 'dev-one', max_live_keys: 2 });
  });
});

describe('a viewer session', () => {
  it('gets 403 naming the role from every change', async () => {
    const changes = operations.filter((op) => !PUBLIC.has(key(op)) && op.method !== 'GET');
    expect(changes.length).toBeGreaterThan(20);
    for (const op of changes) {
      const res = await call(op.method, concrete(op.path), op.requestBody ? {} : undefined, { token: viewer });
      expect(res.status, key(op)).toBe(403);
      expect(res.body.error.message, key(op)).toContain('role viewer may not');
    }
  });

  it('reads what viewers may read, and no key material', async () => {
    for (const path of ['/admin/users', '/admin/audit-log', '/admin/usage', '/admin/requests', '/admin/pricing', '/admin/model-mappings', '/admin/circuit-breakers', '/admin/plan-windows']) {
      expect((await call('GET', path, undefined, { token: viewer })).status, path).toBe(200);
    }
    for (const path of [`/admin/users/${developerUserId}/access-keys`, `/admin/access-keys/${UNKNOWN_ID}/bedrock-key`]) {
      expect((await call('GET', path, undefined, { token: viewer })).status, path).toBe(403);
    }
    // A viewer is not a user: their own routes have nothing to show.
    expect((await call('GET', '/admin/me', undefined, { token: viewer })).status).toBe(404);
  });
});

describe("a developer's own routes", () => {
  it('issue, rotate, revoke keys and register Bedrock keys for their own user only, audited under their name', async () => {
    const me = (method: string, path: string, body?: unknown) => call(method, `/admin/me${path}`, body, { token: developer });
    const issued = await me('POST', '/access-keys', {});
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ user_id: developerUserId, raw_key: expect.any(String) });

    const bedrock = await me('PUT', `/access-keys/${issued.body.id}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });
    expect(bedrock.status).toBe(200);
    expect(bedrock.body).toMatchObject({ last4: BEDROCK_KEY.slice(-4) });
    expect(JSON.stringify((await me('GET', '/access-keys')).body)).not.toContain(BEDROCK_KEY);
    expect((await me('GET', `/access-keys/${issued.body.id}/bedrock-key`)).body).toMatchObject({ configured: true, last4: BEDROCK_KEY.slice(-4) });

    const rotated = await me('POST', `/access-keys/${issued.body.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ has_bedrock_key: true, replaces: { id: issued.body.id } });

    // The rotating key still counts until it is revoked: two unrevoked keys is DEVELOPER_MAX_KEYS.
    const third = await me('POST', '/access-keys', {});
    expect(third.status).toBe(409);
    expect(third.body.error.message).toContain('DEVELOPER_MAX_KEYS is 2');
    expect((await me('DELETE', `/access-keys/${issued.body.id}`)).status).toBe(204);
    expect((await me('POST', '/access-keys', {})).status).toBe(201);

    expect((await me('DELETE', `/access-keys/${rotated.body.id}/bedrock-key`)).status).toBe(204);
    expect((await me('GET', `/access-keys/${rotated.body.id}/bedrock-key`)).status).toBe(404);
    const list = (await me('GET', '/access-keys')).body.items as { id: string; status: string }[];
    expect(list.map((k) => k.status).sort()).toEqual(['active', 'active', 'revoked']);

    const entries = await auditOf(proxy, rotated.body.id);
    expect(entries.map((e) => e.action)).toEqual(['access_key.issue', 'bedrock_key.delete']);
    for (const entry of [...entries, ...(await auditOf(proxy, issued.body.id))]) expect(entry.actor).toBe('dev.one@example.com');
  });

  it('holds DEVELOPER_MAX_KEYS when keys are asked for at once', async () => {
    const user = await call('POST', '/admin/users', { name: 'dev-eager' });
    const eager = (await signPersonToken(jwtKey, { username: 'eager@example.com', role: 'developer', userId: user.body.id })).token;
    const answers = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/admin/me/access-keys', {}, { token: eager })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409]);
  });

  it("answers 404 for another user's key and leaves it alone", async () => {
    const other = await proxy.createKey('someone-else');
    const me = (method: string, path: string, body?: unknown) => call(method, `/admin/me${path}`, body, { token: developer });
    for (const [method, path, body] of [
      ['POST', `/access-keys/${other.accessKeyId}/rotate`, undefined],
      ['DELETE', `/access-keys/${other.accessKeyId}`, undefined],
      ['PUT', `/access-keys/${other.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY }],
      ['GET', `/access-keys/${other.accessKeyId}/bedrock-key`, undefined],
      ['DELETE', `/access-keys/${other.accessKeyId}/bedrock-key`, undefined],
    ] as const) {
      const res = await me(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.message, `${method} ${path}`).toBe('access key not found');
    }
    expect((await call('GET', `/admin/access-keys/${other.accessKeyId}`)).body).toMatchObject({ status: 'active', has_bedrock_key: false });
    // And the admin routes for that user are closed to them.
    expect((await call('GET', `/admin/users/${other.userId}`, undefined, { token: developer })).status).toBe(403);
    expect((await call('GET', `/admin/users/${other.userId}/access-keys`, undefined, { token: developer })).status).toBe(403);
  });

  it('shows their usage, budget and Plan windows for their user only', async () => {
    const usage = await call('GET', '/admin/me/usage', undefined, { token: developer });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toBeDefined();
    expect((await call('GET', `/admin/me/usage?user_id=${UNKNOWN_ID}`, undefined, { token: developer })).status).toBe(400);
    const budget = await call('GET', '/admin/me/budget', undefined, { token: developer });
    expect(budget.status).toBe(200);
    expect(budget.body.user_id).toBe(developerUserId);
    const windows = await call('GET', '/admin/me/plan-windows', undefined, { token: developer });
    expect(windows.status).toBe(200);
    expect(windows.body.items).toEqual([]);
  });

  it('are closed to a deactivated user until reactivation', async () => {
    const user = await call('POST', '/admin/users', { name: 'dev-paused' });
    const paused = (await signPersonToken(jwtKey, { username: 'paused@example.com', role: 'developer', userId: user.body.id })).token;
    await call('POST', `/admin/users/${user.body.id}/deactivate`);
    const refused = await call('POST', '/admin/me/access-keys', {}, { token: paused });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('your user is inactive; ask an admin');
    await call('POST', `/admin/users/${user.body.id}/reactivate`);
    expect((await call('POST', '/admin/me/access-keys', {}, { token: paused })).status).toBe(201);
  });

  it('tell the break-glass admin that its session is no user', async () => {
    const res = await call('GET', '/admin/me');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/not linked to a user/);
  });
});
