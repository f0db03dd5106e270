// Inputs that once answered 500 or lacked a header: deep JSON on the proxy, NUL bytes and huge
// offsets on the admin API, body-less POSTs sent as JSON, and the caching and HSTS headers.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/proxy/plugin.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';

const HSTS = 'max-age=31536000; includeSubDomains';

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
let proxy: TestApp;
let call: AdminCall;
let planKey: { rawKey: string; userId: string; accessKeyId: string };
let bedrockKey: { rawKey: string; userId: string; accessKeyId: string };

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
  proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1' });
  call = await adminClient(proxy);
  planKey = await proxy.createKey();
  bedrockKey = await proxy.createKey();
  expect((await call('PATCH', `/admin/users/${bedrockKey.userId}`, { routing_strategy: 'bedrock_only' })).status).toBe(200);
  await proxy.registerBedrockKey(bedrockKey.accessKeyId);
});
afterAll(async () => {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

/** `[[[…"x"…]]]` nested `depth` arrays deep, as text (building it as a value would recurse in JSON.stringify). */
const deepArray = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const messagesBody = (content: string, extra = '') =>
  `{"model":"claude-opus-5-5","max_tokens":5${extra},"messages":[{"role":"user","content":${content}}]}`;

describe('deeply nested JSON on the proxy', () => {
  const cases: [string, string][] = [
    ['content 100,000 arrays deep', messagesBody(deepArray(100_000))],
    ['a tool input_schema 100,000 objects deep', messagesBody('"hi"', `,"tools":[{"name":"t","input_schema":${deepObject(100_000)}}]`)],
  ];
  for (const [what, body] of cases) {
    for (const [route, user] of [
      ['/v1/messages (bedrock_only)', () => bedrockKey],
      ['/v1/messages (plan_first)', () => planKey],
      ['/v1/messages/count_tokens (bedrock_only)', () => bedrockKey],
    ] as const) {
      it(`refuses ${what} on ${route} with a 400 naming the depth`, async () => {
        const path = route.startsWith('/v1/messages/count_tokens') ? '/v1/messages/count_tokens' : '/v1/messages';
        const res = await post(`/ak/${user().rawKey}${path}`, body);
        expect(res.status, res.text.slice(0, 300)).toBe(400);
        const json = JSON.parse(res.text) as { type: string; error: { type: string; message: string }; request_id: string };
        expect(json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
        expect(json.error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
        expect(res.text).not.toMatch(/call stack|TypeError|\bat /);
      });
    }
  }

  it('refuses it in the header-key form too', async () => {
    const res = await post('/v1/messages', messagesBody(deepArray(MAX_JSON_DEPTH + 1)), { 'x-proxy-key': bedrockKey.rawKey });
    expect(res.status).toBe(400);
    expect(res.text).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it(`accepts a body exactly ${MAX_JSON_DEPTH} levels deep`, async () => {
    // The body object is level 1, messages 2, the message 3, content 4: the arrays fill the rest.
    const ok = await post(`/ak/${bedrockKey.rawKey}/v1/messages`, messagesBody(deepArray(MAX_JSON_DEPTH - 3)));
    expect(ok.text).not.toContain('deeper than');
    const over = await post(`/ak/${bedrockKey.rawKey}/v1/messages`, messagesBody(deepArray(MAX_JSON_DEPTH - 2)));
    expect(over.status).toBe(400);
    expect(over.text).toContain('deeper than');
    expect((await request(`${proxy.url}/health`)).statusCode).toBe(200);
  });
});

describe('a model name the usage row cannot store', () => {
  it.each([['a NUL', 'claude\u0000opus'], ['a lone surrogate', 'claude-\ud800'], ['a control character', 'claude\u001b[31m'], ['300 characters', 'c'.repeat(300)]])(
    'refuses %s with a 400, and the usage batch still writes',
    async (_what, model) => {
      const res = await post(`/ak/${planKey.rawKey}/v1/messages`, JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^model: /) } });
      await proxy.flushUsage();
      expect(proxy.logs.filter((l) => /usage .*failed/.test(String(l.msg)))).toEqual([]);
    },
  );
});

describe('NUL and control characters on the admin API', () => {
  it.each([
    ['POST', '/admin/users', { name: 'a\u0000b' }, 'name'],
    ['POST', '/admin/users', { name: 'ok', description: 'x\u0000' }, 'description'],
  ])('%s %s refuses a NUL in %j with a 400 naming the field', async (method, path, body, field) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { type: 'invalid_request_error', message: expect.stringMatching(new RegExp(`^${field}: `)) } });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a NUL in a rename', async () => {
    const created = await call('POST', '/admin/users', { name: `nul-${Date.now()}` });
    const res = await call('PATCH', `/admin/users/${created.body.id}`, { name: '\u0000' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^name: must not contain control characters/);
  });

  it.each(['/admin/users?q=%00', '/admin/users?q=a%00b', '/admin/audit-log?actor=%00', '/admin/audit-log?target_id=x%00'])('GET %s answers 400', async (path) => {
    const res = await call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
  });

  it('still takes newlines in a description', async () => {
    const res = await call('POST', '/admin/users', { name: `multi-${Date.now()}`, description: 'line one\nline two\ttabbed' });
    expect(res.status).toBe(201);
  });
});

describe('offsets and limits out of range', () => {
  it.each(['/admin/users?offset=1e20', '/admin/users?offset=1000001', '/admin/audit-log?offset=1e20', '/admin/users?limit=1e20', '/admin/audit-log?offset=-1'])(
    'GET %s answers 400',
    async (path) => {
      const res = await call('GET', path);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^(offset|limit): /);
    },
  );

  it('takes the largest offset', async () => {
    const res = await call('GET', '/admin/users?offset=1000000');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });
});

describe('Cache-Control: no-store on the admin API', () => {
  it('marks responses carrying a raw key or a token', async () => {
    const user = await call('POST', '/admin/users', { name: `cache-${Date.now()}` });
    const issued = await call('POST', `/admin/users/${user.body.id}/access-keys`, {});
    expect(issued.status).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const rotated = await call('POST', `/admin/access-keys/${issued.body.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const login = await call('POST', '/admin/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, { token: null });
    expect(login.status).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
  });

  it('marks every other admin answer, errors included', async () => {
    expect((await call('GET', '/admin/users')).headers['cache-control']).toBe('no-store');
    expect((await call('GET', '/admin/users', undefined, { token: null })).headers['cache-control']).toBe('no-store');
  });
});

describe('Strict-Transport-Security', () => {
  const paths = () => ['/health', '/admin/users', `/ak/${planKey.rawKey}/v1/models`, `/ak/${planKey.rawKey}/status`];

  it('is sent when the request came over HTTPS (X-Forwarded-Proto from the load balancer)', async () => {
    for (const path of paths()) {
      const res = await request(`${proxy.url}${path}`, { headers: { 'x-forwarded-proto': 'https', authorization: `Bearer ${await proxy.adminToken()}` } });
      await res.body.text();
      expect(res.headers['strict-transport-security'], path).toBe(HSTS);
    }
    // The proxy writes its own answers (hijacked replies) and still carries it.
    const res = await post(`/ak/${bedrockKey.rawKey}/v1/messages`, '{"model":"claude-opus-5-5"', { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(400);
    expect(res.headers['strict-transport-security']).toBe(HSTS);
  });

  it('is never sent over plain HTTP', async () => {
    for (const path of paths()) {
      const res = await request(`${proxy.url}${path}`, { headers: { authorization: `Bearer ${await proxy.adminToken()}` } });
      await res.body.text();
      expect(res.headers['strict-transport-security'], path).toBeUndefined();
    }
  });
});

describe('URLs the router cannot read', () => {
  it('answers a bad percent-escape on the proxy in Anthropic\'s shape, without echoing the path (it may hold a key)', async () => {
    const res = await post('/ak/sk-secret%ED%A0%80/v1/messages', messagesBody('"hi"'));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: expect.stringMatching(/^req_/) });
    expect(res.text).not.toContain('sk-secret');
  });

  it('answers a NUL in a path no route takes (the dashboard\'s static files refuse it) in the family\'s shape', async () => {
    const admin = await call('GET', '/admin/users/%00/deactivate');
    expect(admin.status).toBe(400);
    expect(admin.body).toEqual({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    const other = await request(`${proxy.url}/ak/${'x'.repeat(1000)}/v1/models/%00`);
    expect(other.statusCode).toBe(400);
    expect(await other.body.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: expect.any(String) });
  });

  it('answers an over-long path segment on the admin API in its shape', async () => {
    const res = await call('POST', `/admin/users/${'x'.repeat(500)}/deactivate`);
    expect(res.status).toBe(414);
    expect(res.body).toEqual({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toContain('xxxx');
  });
});

describe('body-less POSTs sent as JSON with an empty body', () => {
  const emptyJson = (method: string, path: string, auth = true) =>
    call(method, path, '', { headers: { 'content-type': 'application/json' }, token: auth ? undefined : null });

  it('rotates, deactivates, reactivates, resets and logs out', async () => {
    const user = await call('POST', '/admin/users', { name: `bodyless-${Date.now()}` });
    const issued = await emptyJson('POST', `/admin/users/${user.body.id}/access-keys`);
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const rotated = await emptyJson('POST', `/admin/access-keys/${issued.body.id}/rotate`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    expect((await emptyJson('POST', `/admin/users/${user.body.id}/deactivate`)).status).toBe(200);
    expect((await emptyJson('POST', `/admin/users/${user.body.id}/reactivate`)).status).toBe(200);
    expect((await emptyJson('POST', `/admin/circuit-breakers/${issued.body.id}/reset`)).status).toBe(204);
    expect((await emptyJson('POST', '/admin/auth/logout', false)).status).toBe(204);
  });

  it('still refuses an empty body where one is required, and broken JSON', async () => {
    const empty = await emptyJson('POST', '/admin/users');
    expect(empty.status).toBe(400);
    expect(empty.body.error.type).toBe('invalid_request_error');
    const broken = await call('POST', '/admin/users', '{"name":', { headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    const poisoned = await call('POST', '/admin/users', '{"name":"p","__proto__":{"x":1}}', { headers: { 'content-type': 'application/json' } });
    expect(poisoned.status).toBe(400);
  });
});
