import { Validator } from '@seriousme/openapi-schema-validator';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/db/audit-repository.ts';
import { deriveJwtKey } from '../../src/security/jwt.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';

// The whole admin surface, driven by its own OpenAPI document: the document validates and lists
// exactly the registered routes, and every route answers the same way to a missing or bad token,
// a malformed or unknown id, an unknown field; every change leaves its audit entry.

interface Operation {
  method: string;
  /** OpenAPI form: /admin/users/{id} */
  path: string;
  summary?: string;
  parameters?: { in: string; name: string; required?: boolean; schema: { format?: string } }[];
  requestBody?: { required?: boolean; content: { 'application/json': { schema: { additionalProperties?: boolean } } } };
  responses: Record<string, unknown>;
  security?: unknown[];
}

const PUBLIC = new Set(['POST /admin/auth/login', 'POST /admin/auth/logout', 'GET /admin/auth/methods', 'GET /admin/auth/oidc/login', 'GET /admin/auth/oidc/callback']);
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS1yb3V0ZXMtdGVzdC1rZXktMTIzNA==';
// Routes another part of the admin API owns (usage, pricing, budgets, limits) are checked generically
// (document, 401, malformed id) but their bodies and audit entries are that part's own tests' concern.
// me/: a person's own routes, checked (roles, ownership, audit) in admin-roles.test.ts; tokens: admin-api-tokens.test.ts.
const OWNED_ELSEWHERE = /^\/admin\/(usage|pricing|me|tokens)(\/|$)|\/(budget|limits)$/;

let proxy: TestApp;
let call: AdminCall;
let doc: { openapi: string; paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>> };
let operations: Operation[];

beforeAll(async () => {
  proxy = await startTestApp();
  call = await adminClient(proxy);
  const res = await call('GET', '/admin/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
  );
});
afterAll(() => proxy.close());

const key = (op: Operation) => `${op.method} ${op.path}`;
const concrete = (path: string, id: string) => path.replace(/\{[^}]+\}/g, id);
const uuidParam = (op: Operation) => op.parameters?.find((p) => p.in === 'path' && p.schema.format === 'uuid');

/** The registered routes, from Fastify's own route tree (HEAD is implied by GET). */
function registeredAdminRoutes(): string[] {
  const tree = proxy.app.server.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD' && path.startsWith('/admin')) routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('covers exactly the registered admin routes', () => {
    const documented = operations.map((op) => `${op.method} ${op.path.replace(/\{([^}]+)\}/g, ':$1')}`).sort();
    expect(documented).toEqual(registeredAdminRoutes());
    expect(documented.length).toBeGreaterThanOrEqual(27);
  });

  it('describes each operation: a summary, its success, and the errors it can give', () => {
    for (const op of operations) {
      expect(op.summary, key(op)).toBeTruthy();
      // Success is a 2xx, or for company sign-in's steps a redirect.
      expect(Object.keys(op.responses).some((s) => /^[23]\d\d$/.test(s)), key(op)).toBe(true);
      if (PUBLIC.has(key(op))) expect(op.security, key(op)).toEqual([]);
      else expect(op.responses['401'], key(op)).toBeDefined();
      if (op.parameters?.some((p) => p.in === 'path')) expect(op.responses['404'], key(op)).toBeDefined();
      if (op.parameters?.length || op.requestBody) expect(op.responses['400'], key(op)).toBeDefined();
    }
    expect(doc).toMatchObject({ components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie' } } } });
  });

  it('is for admins only', async () => {
    expect((await call('GET', '/admin/openapi.json', undefined, { token: null })).status).toBe(401);
  });
});

describe('every route', () => {
  it('answers 401 without a token, and with a malformed, tampered, foreign or expired one', async () => {
    const good = await proxy.adminToken();
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin')
      .setJti('expired')
      .setIssuer('claude-code-proxy')
      .setAudience('claude-code-proxy-admin')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 13 * 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(deriveJwtKey('test-key-hasher-secret-0123456789abcdef'));
    const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').sign(new TextEncoder().encode('x'.repeat(40)));
    for (const op of operations.filter((o) => !PUBLIC.has(key(o)))) {
      // An address gets 300 requests without a valid token a minute (app.ts): the newer me/ and
      // tokens routes get two kinds of bad token each, so the whole loop stays under that.
      const tokens = /^\/admin\/(me|tokens)(\/|$)/.test(op.path) ? [null, `${good.slice(0, -3)}abc`] : [null, 'garbage', `${good.slice(0, -3)}abc`, foreign, expired];
      for (const token of tokens) {
        const res = await call(op.method, concrete(op.path, UNKNOWN_ID), op.requestBody ? {} : undefined, { token });
        expect(res.status, `${key(op)} with ${token}`).toBe(401);
        expect(res.body.error.type).toBe('authentication_error');
      }
    }
  });

  it('names the id when it is malformed', async () => {
    for (const op of operations.filter((o) => uuidParam(o))) {
      const res = await call(op.method, concrete(op.path, 'not-a-uuid'), op.requestBody ? {} : undefined);
      expect(res.status, key(op)).toBe(400);
      expect(res.body.error, key(op)).toEqual({ type: 'invalid_request_error', message: expect.stringMatching(new RegExp(`^${uuidParam(op)!.name}: `)) });
    }
  });

  it('answers 404 for an id that does not exist', async () => {
    // A body that passes validation, so the lookup is what answers.
    const validBody: Record<string, unknown> = {
      'PATCH /admin/users/{id}': { description: 'x' },
      'PUT /admin/users/{id}/plan': { overage: 'stay' },
      'POST /admin/users/{id}/access-keys': {},
      'PATCH /admin/access-keys/{id}': { bedrock_region: null },
      'PUT /admin/access-keys/{id}/bedrock-key': { bedrock_api_key: BEDROCK_KEY },
      'PUT /admin/users/{id}/email': { email: 'nobody@example.com' },
    };
    const checked: string[] = [];
    for (const op of operations.filter((o) => uuidParam(o) && !OWNED_ELSEWHERE.test(o.path))) {
      if (op.requestBody?.required && !(key(op) in validBody)) throw new Error(`${key(op)}: add a valid body to this test`);
      const res = await call(op.method, concrete(op.path, UNKNOWN_ID), validBody[key(op)]);
      expect(res.status, key(op)).toBe(404);
      expect(res.body.error.type, key(op)).toBe('not_found_error');
      checked.push(key(op));
    }
    expect(checked.length).toBeGreaterThanOrEqual(15);
    expect((await call('DELETE', '/admin/model-mappings/claude-nothing')).status).toBe(404);
  });

  it('names an unknown field in a body or query string', async () => {
    for (const op of operations.filter((o) => o.requestBody?.content['application/json'].schema.additionalProperties === false)) {
      const res = await call(op.method, concrete(op.path, UNKNOWN_ID), { surprise: 1 }, { token: PUBLIC.has(key(op)) ? null : undefined });
      expect(res.status, key(op)).toBe(400);
      expect(res.body.error.message, key(op)).toMatch(/^surprise: is not a known field$|^[a-z_]+: is required$/);
    }
    for (const path of ['/admin/users', '/admin/audit-log']) {
      const res = await call('GET', `${path}?surprise=1`);
      expect(res.status, path).toBe(400);
      expect(res.body.error.message).toBe('surprise: is not a known field');
    }
  });
});

describe('every change', () => {
  it('leaves one audit entry naming the admin, the action, the target, the address and the request', async () => {
    const audit = createAuditRepository(proxy.database.db);
    const covered = new Set<string>();
    /** Makes the call, checks the audit entries it wrote, and returns its answer. */
    async function change(method: string, template: string, path: string, body: unknown, action: string, status = 200, token?: string) {
      const before = (await audit.list({}, { limit: 1, offset: 0 })).total;
      const res = await call(method, path, body, token ? { token } : {});
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
      const { items: written, total } = await audit.list({}, { limit: 10, offset: 0 });
      const entries = written.slice(0, total - before);
      expect(entries.map((e) => e.action), `${method} ${path}`).toContain(action);
      for (const entry of entries) {
        expect(entry, `${method} ${path}`).toMatchObject({ actor: 'admin', ip: '127.0.0.1', requestId: expect.stringMatching(/^req_/), occurredAt: expect.any(Date) });
      }
      covered.add(`${method} ${template}`);
      return res.body;
    }

    const login = await change('POST', '/admin/auth/login', '/admin/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, 'auth.login', 200, 'none');
    const user = await change('POST', '/admin/users', '/admin/users', { name: 'audited' }, 'user.create', 201);
    const u = `/admin/users/${user.id}`;
    await change('PATCH', '/admin/users/{id}', u, { description: 'watched', routing_strategy: 'plan_only' }, 'user.update');
    await change('PUT', '/admin/users/{id}/plan', `${u}/plan`, { switch_threshold: 0.9, overage: 'stay' }, 'user.plan');
    await change('PUT', '/admin/users/{id}/email', `${u}/email`, { email: 'audited@example.com' }, 'user.email');
    await change('POST', '/admin/users/{id}/deactivate', `${u}/deactivate`, undefined, 'user.deactivate');
    await change('POST', '/admin/users/{id}/reactivate', `${u}/reactivate`, undefined, 'user.reactivate');
    const issued = await change('POST', '/admin/users/{id}/access-keys', `${u}/access-keys`, {}, 'access_key.issue', 201);
    const k = `/admin/access-keys/${issued.id}`;
    await change('PATCH', '/admin/access-keys/{id}', k, { bedrock_region: 'us-west-2' }, 'access_key.update');
    await change('PUT', '/admin/access-keys/{id}/bedrock-key', `${k}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY }, 'bedrock_key.set');
    const rotated = await change('POST', '/admin/access-keys/{id}/rotate', `${k}/rotate`, undefined, 'access_key.rotate', 201);
    await change('DELETE', '/admin/access-keys/{id}/bedrock-key', `/admin/access-keys/${rotated.id}/bedrock-key`, undefined, 'bedrock_key.delete', 204);
    await change('POST', '/admin/circuit-breakers/{id}/reset', `/admin/circuit-breakers/${rotated.id}/reset`, undefined, 'circuit_breaker.reset', 204);
    await change('PUT', '/admin/model-mappings/{model}', '/admin/model-mappings/claude-audited-1', { base_id: 'anthropic.claude-audited-1-v1:0', geographies: ['us'] }, 'model_mapping.set');
    await change('DELETE', '/admin/model-mappings/{model}', '/admin/model-mappings/claude-audited-1', undefined, 'model_mapping.delete', 204);
    await change('DELETE', '/admin/access-keys/{id}', `/admin/access-keys/${rotated.id}`, undefined, 'access_key.revoke', 204);
    await change('DELETE', '/admin/users/{id}', u, undefined, 'user.delete', 204);
    await change('POST', '/admin/auth/logout', '/admin/auth/logout', undefined, 'auth.logout', 204, login.access_token);

    const changes = operations.filter((op) => op.method !== 'GET' && !OWNED_ELSEWHERE.test(op.path)).map(key);
    expect(changes.filter((c) => !covered.has(c)), 'changes without an audit check here').toEqual([]);

    // Nothing secret in any entry: raw keys, the Bedrock key, the password, tokens, hashes.
    const all = JSON.stringify((await audit.list({}, { limit: 500, offset: 0 })).items);
    for (const secret of [issued.raw_key, rotated.raw_key, BEDROCK_KEY, ADMIN_PASSWORD, login.access_token, proxy.config.keyHasherSecret!]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toMatch(/key_hash|encrypted_key|password_hash|scrypt\$/);

    // Nor in anything the API shows afterwards.
    const secrets = [issued.raw_key, rotated.raw_key, BEDROCK_KEY, ADMIN_PASSWORD, login.access_token, proxy.config.keyHasherSecret!];
    for (const op of operations.filter((o) => o.method === 'GET' && !OWNED_ELSEWHERE.test(o.path))) {
      const path = op.path.replace('{id}', op.path.startsWith('/admin/users') ? user.id : issued.id);
      const text = JSON.stringify((await call('GET', path)).body);
      for (const secret of secrets) expect(text, path).not.toContain(secret);
      if (op.path !== '/admin/openapi.json') expect(text, path).not.toMatch(/key_hash|encrypted_key|password|scrypt\$/);
    }
  });
});
