// Issue 6: logs an operator can follow a request through, and that never leak. Every route is
// driven with known secret values at LOG_LEVEL=trace; none of them may appear anywhere in what the
// server wrote. Every response carries a request-id the logs can be searched for.
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { ADMIN_PASSWORD, LOCAL_ENCRYPTION_KEY, startTestApp, type TestApp } from '../support/app.ts';

const MODEL = 'claude-opus-5-5';
// Secret values in the shapes they have in real life, each unique to this run.
const nonce = () => randomBytes(18).toString('base64url');
const CLIENT_API_KEY = `sk-ant-api03-${nonce()}-${nonce()}`;
const CLIENT_OAUTH_TOKEN = `sk-ant-oat01-${nonce()}${nonce()}`;
const BEDROCK_KEY = `ABSK${randomBytes(60).toString('base64')}`;
const BEDROCK_SHORT_TERM_KEY = `bedrock-api-key-${randomBytes(90).toString('base64')}`;
const WRONG_PASSWORD = `hunter2-${nonce()}`;

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
let proxy: TestApp;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
  proxy = await startTestApp({
    PLAN_API_URL: anthropic.url,
    BEDROCK_ENDPOINT: bedrock.url,
    BEDROCK_REGION: 'us-east-1',
    LOG_LEVEL: 'trace',
    METRICS: 'both',
    METRICS_FLUSH_INTERVAL: '3600',
    CIRCUIT_FAILURE_THRESHOLD: '1000',
  });
});
afterAll(async () => {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function call(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const res = await request(`${proxy.url}${path}`, { method: method as 'GET', headers: options.headers, body: options.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const json = { 'content-type': 'application/json' };
const messages = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: MODEL, max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('secrets never reach the logs', () => {
  it('drives every route with known secrets, and finds none of them in the output', async () => {
    const secrets: string[] = [ADMIN_PASSWORD, WRONG_PASSWORD, CLIENT_API_KEY, CLIENT_OAUTH_TOKEN, BEDROCK_KEY, BEDROCK_SHORT_TERM_KEY, LOCAL_ENCRYPTION_KEY];

    // Admin login: right, wrong, and a body cut short in the middle of the password.
    const login = await call('POST', '/admin/auth/login', { headers: json, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    expect(login.status).toBe(200);
    const token = (JSON.parse(login.text) as { access_token: string }).access_token;
    secrets.push(token);
    expect((await call('POST', '/admin/auth/login', { headers: json, body: JSON.stringify({ username: 'admin', password: WRONG_PASSWORD }) })).status).toBe(401);
    expect((await call('POST', '/admin/auth/login', { headers: json, body: `{"username":"admin","password":"${WRONG_PASSWORD}` })).status).toBe(400);
    const admin = { ...json, authorization: `Bearer ${token}` };

    // A user, an access key (the raw key is shown once), its Bedrock key; a second key, revoked.
    const user = JSON.parse((await call('POST', '/admin/users', { headers: admin, body: '{"name":"leaky"}' })).text) as { id: string };
    const issued = await call('POST', `/admin/users/${user.id}/access-keys`, { headers: admin, body: '{}' });
    expect(issued.status).toBe(201);
    const key = JSON.parse(issued.text) as { id: string; raw_key: string };
    secrets.push(key.raw_key);
    const other = JSON.parse((await call('POST', `/admin/users/${user.id}/access-keys`, { headers: admin, body: '{}' })).text) as { id: string; raw_key: string };
    secrets.push(other.raw_key);
    expect((await call('DELETE', `/admin/access-keys/${other.id}`, { headers: { authorization: admin.authorization } })).status).toBeLessThan(300);
    expect((await call('PUT', `/admin/access-keys/${key.id}/bedrock-key`, { headers: admin, body: JSON.stringify({ bedrock_api_key: BEDROCK_KEY }) })).status).toBe(200);
    // A refused Bedrock key (space inside): the 400 names the field, the log must not hold the value.
    expect((await call('PUT', `/admin/access-keys/${key.id}/bedrock-key`, { headers: admin, body: JSON.stringify({ bedrock_api_key: `${BEDROCK_SHORT_TERM_KEY} x` }) })).status).toBe(400);
    expect((await call('GET', '/admin/users', { headers: admin })).status).toBe(200);
    // Rotation issues another raw key (shown once); a budget and a price change are audited.
    const rotated = await call('POST', `/admin/access-keys/${key.id}/rotate`, { headers: { authorization: admin.authorization } });
    expect(rotated.status).toBe(201);
    const next = JSON.parse(rotated.text) as { raw_key: string };
    secrets.push(next.raw_key);
    expect((await call('PUT', `/admin/users/${user.id}/budget`, { headers: admin, body: JSON.stringify({ monthly_budget_usd: '100' }) })).status).toBe(200);

    const client = { ...json, 'x-api-key': CLIENT_API_KEY, authorization: `Bearer ${CLIENT_OAUTH_TOKEN}` };
    // The proxy: key in the path, in x-proxy-key, in the body, in the query; streamed and not.
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages?beta=true`, { headers: client, body: messages() })).status).toBe(200);
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: messages({ stream: true }) })).status).toBe(200);
    expect((await call('POST', '/v1/messages', { headers: { ...client, 'x-proxy-key': key.raw_key }, body: messages({ metadata: { user_id: key.raw_key } }) })).status).toBe(200);
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages/count_tokens?key=${key.raw_key}`, { headers: client, body: messages() })).status).toBe(200);
    expect((await call('POST', `/ak/${next.raw_key}/v1/messages`, { headers: client, body: messages() })).status).toBe(200);
    // Refusals: revoked key, unknown route with a key in it, bad JSON holding secrets, no model.
    expect((await call('POST', `/ak/${other.raw_key}/v1/messages`, { headers: client, body: messages() })).status).toBe(401);
    expect((await call('POST', `/ak/${key.raw_key}/v1/complete`, { headers: client, body: messages() })).status).toBe(404);
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: `{"password":"${ADMIN_PASSWORD}","x-api-key":"${CLIENT_API_KEY}` })).status).toBe(400);
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: JSON.stringify({ messages: [] }) })).status).toBe(400);
    // Fallback to Bedrock (Bearer = the stored key), and Bedrock failing too (logged as a warning).
    anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: messages({ stream: true }) })).status).toBe(200);
    expect(bedrock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${BEDROCK_KEY}`);
    anthropic.reply(errorReply(500, 'api_error', 'Internal server error'));
    bedrock.reply('*', { error: { name: 'InternalServerException', message: `internal failure for ${BEDROCK_KEY}` } });
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: messages() })).status).toBe(500);
    // Anthropic's 401 for the client's credential, passed through.
    anthropic.reply(errorReply(401, 'authentication_error', 'invalid x-api-key'));
    expect((await call('POST', `/ak/${key.raw_key}/v1/messages`, { headers: client, body: messages() })).status).toBe(401);
    // Health, readiness, metrics, an unknown admin route.
    for (const path of ['/health', '/ready', '/metrics', `/admin/nothing/${key.raw_key}`]) await call('GET', path, { headers: admin });

    await vi.waitFor(() => expect(proxy.logs.filter((l) => l.msg === 'request').length).toBeGreaterThanOrEqual(8));
    proxy.app.metrics.flush();
    await proxy.flushUsage();

    const text = proxy.logText();
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(text.includes(secret), `a secret of ${secret.length} characters is in the log`).toBe(false);
    // Parts of secrets too: nothing from the key's 12th character on, no base64 run of the Bedrock key.
    expect(text).not.toContain(key.raw_key.slice(11, 30));
    expect(text).not.toContain(BEDROCK_KEY.slice(4, 24));
    // Yet a request can still be told apart by its key's prefix.
    expect(proxy.logs.some((l) => l.msg === 'request' && l.keyPrefix === key.raw_key.slice(0, 11))).toBe(true);
  });
});

describe('access lines', () => {
  it('give one line per request with everything an operator follows it by', async () => {
    const { rawKey, userId } = await proxy.createKey();
    const from = proxy.logs.length;
    const res = await call('POST', `/ak/${rawKey}/v1/messages`, { headers: { ...json, 'x-amzn-trace-id': 'Root=1-67891233-abcdef012345678912345678' }, body: messages({ stream: true }) });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(proxy.logs.slice(from).filter((l) => l.msg === 'request')).toHaveLength(1));
    const line = proxy.logs.slice(from).find((l) => l.msg === 'request')!;
    expect(line).toMatchObject({
      level: 'info',
      reqId: expect.stringMatching(/^req_[0-9a-f]{32}$/),
      upstreamRequestId: res.headers['request-id'],
      traceId: 'Root=1-67891233-abcdef012345678912345678',
      userId,
      keyPrefix: rawKey.slice(0, 11),
      provider: 'plan',
      fallback: null,
      model: MODEL,
      stream: true,
      status: 200,
      outcome: 'completed',
      latencyMs: expect.any(Number),
      ttfbMs: expect.any(Number),
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
      cacheReadTokens: expect.any(Number),
      cacheWriteTokens: expect.any(Number),
    });
    expect(line.outputTokens).toBeGreaterThan(0);
    expect(typeof line.time).toBe('string');
  });

  it('log each admin request once, by route pattern', async () => {
    const from = proxy.logs.length;
    await call('POST', '/admin/auth/login', { headers: json, body: JSON.stringify({ username: 'admin', password: WRONG_PASSWORD }) });
    await vi.waitFor(() => expect(proxy.logs.slice(from).filter((l) => l.msg === 'admin request')).toHaveLength(1));
    expect(proxy.logs.slice(from).find((l) => l.msg === 'admin request')).toMatchObject({ method: 'POST', route: '/admin/auth/login', status: 401, admin: null, ip: '127.0.0.1' });
  });
});

describe('request-id', () => {
  it('is on every response, and names the line in the logs', async () => {
    const { rawKey } = await proxy.createKey();
    const token = await proxy.adminToken();
    const answers: [string, Answer][] = [
      ['health', await call('GET', '/health')],
      ['ready', await call('GET', '/ready')],
      ['metrics', await call('GET', '/metrics')],
      ['unknown route', await call('GET', '/nothing-here')],
      ['unknown admin route', await call('GET', '/admin/nothing-here', { headers: { authorization: `Bearer ${token}` } })],
      ['admin 401', await call('GET', '/admin/users')],
      ['admin 400', await call('POST', '/admin/users', { headers: { ...json, authorization: `Bearer ${token}` }, body: '{}' })],
      ['admin 200', await call('GET', '/admin/users', { headers: { authorization: `Bearer ${token}` } })],
      ['proxy 401', await call('POST', `/ak/ak_${'x'.repeat(43)}/v1/messages`, { headers: json, body: messages() })],
      ['proxy 400', await call('POST', `/ak/${rawKey}/v1/messages`, { headers: json, body: '{' })],
      ['proxy 200 from Anthropic', await call('POST', `/ak/${rawKey}/v1/messages`, { headers: json, body: messages() })],
    ];
    for (const [name, answer] of answers) expect(answer.headers['request-id'], name).toMatch(/^req_/);
    // The proxy's own answers: the header is the reqId of its log line and the body's request_id.
    const refused = answers.find(([n]) => n === 'proxy 401')![1];
    expect(JSON.parse(refused.text)).toMatchObject({ request_id: refused.headers['request-id'] });
    await vi.waitFor(() => expect(proxy.logs.some((l) => l.msg === 'request rejected' && l.reqId === refused.headers['request-id'] && l.status === 401)).toBe(true));
    // Anthropic's answer keeps Anthropic's id (clients quote it to Anthropic); the log holds both.
    const passed = answers.find(([n]) => n === 'proxy 200 from Anthropic')![1];
    expect(passed.headers['request-id']).toMatch(/^req_fake_/);
    await vi.waitFor(() => expect(proxy.logs.some((l) => l.msg === 'request' && l.upstreamRequestId === passed.headers['request-id'] && /^req_[0-9a-f]{32}$/.test(String(l.reqId)))).toBe(true));
  });
});
