import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { createBedrockKeyRepository } from '../../src/db/bedrock-key-repository.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// Issue 3 item 4: Bedrock API keys stored envelope-encrypted per access key, shown only as the last
// four characters; and PATCH /admin/users/{id} (routing strategy, budget) reaching the proxy at once.

const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS10ZXN0LWJlZHJvY2sta2V5LWFiY2Q=';
const BEDROCK_KEY_2 = 'ABSKQmVkcm9ja0FQSUtleS1yZXBsYWNlbWVudC1rZXktd3h5eg==';

let proxy: TestApp;
let token: string;
/** Every admin response body after the first PUT, to prove none carries a key. */
const responses: string[] = [];

beforeAll(async () => {
  proxy = await startTestApp();
  token = await proxy.adminToken();
});
afterAll(async () => {
  await proxy?.close();
});

async function call(method: string, path: string, body?: unknown, auth: string | null = token) {
  const res = await request(`${proxy.url}${path}`, {
    method: method as 'GET',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  responses.push(text);
  return { status: res.statusCode, text, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

const bedrockKeyPath = (accessKeyId: string) => `/admin/access-keys/${accessKeyId}/bedrock-key`;

describe('Bedrock keys', () => {
  let keyA: { accessKeyId: string; rawKey: string; userId: string };
  let keyB: { accessKeyId: string; rawKey: string; userId: string };

  beforeAll(async () => {
    keyA = await proxy.createKey();
    keyB = await proxy.createKey();
  });

  it('has none until one is set: GET is a 404 that says what to do', async () => {
    const res = await call('GET', bedrockKeyPath(keyA.accessKeyId));
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ type: 'not_found_error', message: expect.stringMatching(/has no Bedrock key; set one with PUT/) });
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBeNull();
  });

  it('PUT stores it encrypted and answers with the last four characters only', async () => {
    const res = await call('PUT', bedrockKeyPath(keyA.accessKeyId), { bedrock_api_key: BEDROCK_KEY });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_key_id: keyA.accessKeyId,
      configured: true,
      last4: BEDROCK_KEY.slice(-4),
      encryption: 'local',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.text).not.toContain(BEDROCK_KEY.slice(0, -4));

    const row = await createBedrockKeyRepository(proxy.database.db).get(keyA.accessKeyId);
    expect(row!.last4).toBe(BEDROCK_KEY.slice(-4));
    expect(row!.encryptedKey[0]).toBe(1); // version byte: local key
    expect(row!.encryptedKey.includes(Buffer.from(BEDROCK_KEY))).toBe(false);
  });

  it('the store hands the proxy the decrypted key (the cache was told about the change)', async () => {
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBe(BEDROCK_KEY);
  });

  it('GET reports the status, never the key', async () => {
    const res = await call('GET', bedrockKeyPath(keyA.accessKeyId));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ access_key_id: keyA.accessKeyId, configured: true, last4: BEDROCK_KEY.slice(-4) });
    expect(res.text).not.toContain(BEDROCK_KEY);
  });

  it('PUT again replaces it: same created_at, newer updated_at, and the store has the new key at once', async () => {
    const before = (await call('GET', bedrockKeyPath(keyA.accessKeyId))).body;
    await new Promise((r) => setTimeout(r, 5));
    const res = await call('PUT', bedrockKeyPath(keyA.accessKeyId), { bedrock_api_key: `  ${BEDROCK_KEY_2}\n` });
    expect(res.status).toBe(200);
    expect(res.body.last4).toBe(BEDROCK_KEY_2.slice(-4));
    expect(res.body.created_at).toBe(before.created_at);
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBe(BEDROCK_KEY_2); // trimmed
  });

  it('a blob copied to another access key’s row does not decrypt', async () => {
    const rows = createBedrockKeyRepository(proxy.database.db);
    const rowA = await rows.get(keyA.accessKeyId);
    await rows.upsert({ accessKeyId: keyB.accessKeyId, encryptedKey: rowA!.encryptedKey, last4: rowA!.last4 });
    proxy.app.bedrockKeys.invalidate(keyB.accessKeyId);
    await expect(proxy.app.bedrockKeys.get(keyB.accessKeyId)).rejects.toMatchObject({ name: 'EnvelopeError', code: 'SECURITY_DECRYPT_FAILED' });
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBe(BEDROCK_KEY_2);
    await rows.delete(keyB.accessKeyId);
    proxy.app.bedrockKeys.invalidate(keyB.accessKeyId);
  });

  it('DELETE removes it, and the store forgets it at once', async () => {
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBe(BEDROCK_KEY_2); // cached
    const res = await call('DELETE', bedrockKeyPath(keyA.accessKeyId));
    expect(res.status).toBe(204);
    expect(await proxy.app.bedrockKeys.get(keyA.accessKeyId)).toBeNull();
    expect((await call('GET', bedrockKeyPath(keyA.accessKeyId))).status).toBe(404);
    const again = await call('DELETE', bedrockKeyPath(keyA.accessKeyId));
    expect(again.status).toBe(404);
    expect(again.body.error.message).toMatch(/has no Bedrock key/);
  });

  it.each([
    [{}, 400, /^bedrock_api_key: is required$/],
    [{ bedrock_api_key: 'short' }, 400, /^bedrock_api_key: must NOT have fewer than 16 characters$/],
    [{ bedrock_api_key: 'has a space in the middle of it' }, 400, /^bedrock_api_key: must be printable ASCII without spaces or line breaks$/],
    [{ bedrock_api_key: BEDROCK_KEY, region: 'us-east-1' }, 400, /^region: is not a known field$/],
  ])('refuses %o naming the field', async (body, status, message) => {
    const res = await call('PUT', bedrockKeyPath(keyB.accessKeyId), body);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toMatch(message);
    expect(res.text).not.toContain('middle of it');
  });

  it('answers unknown, malformed and revoked access keys clearly', async () => {
    const unknown = await call('PUT', bedrockKeyPath('00000000-0000-4000-8000-000000000000'), { bedrock_api_key: BEDROCK_KEY });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('access key not found');
    expect((await call('GET', bedrockKeyPath('00000000-0000-4000-8000-000000000000'))).status).toBe(404);
    expect((await call('GET', bedrockKeyPath('nope'))).body.error.message).toMatch(/^id: /);

    await createAccessKeyRepository(proxy.database.db).revoke(keyB.accessKeyId);
    const revoked = await call('PUT', bedrockKeyPath(keyB.accessKeyId), { bedrock_api_key: BEDROCK_KEY });
    expect(revoked.status).toBe(409);
    expect(revoked.body.error).toEqual({ type: 'conflict_error', message: `access key ${keyB.accessKeyId} is revoked; register the Bedrock key on a usable access key` });
  });

  it('needs the admin token', async () => {
    expect((await call('PUT', bedrockKeyPath(keyA.accessKeyId), { bedrock_api_key: BEDROCK_KEY }, null)).status).toBe(401);
    expect((await call('GET', bedrockKeyPath(keyA.accessKeyId), undefined, null)).status).toBe(401);
    expect((await call('DELETE', bedrockKeyPath(keyA.accessKeyId), undefined, null)).status).toBe(401);
  });

  it('no Bedrock key appears in any admin response after the PUT, nor in any log line', () => {
    for (const secret of [BEDROCK_KEY, BEDROCK_KEY_2]) {
      for (const text of responses) expect(text).not.toContain(secret);
      expect(proxy.logText()).not.toContain(secret);
    }
  });

  it('the logger itself redacts bedrock_api_key fields', () => {
    let out = '';
    const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }));
    logger.info({ bedrock_api_key: BEDROCK_KEY, body: { bedrock_api_key: BEDROCK_KEY_2 }, ctx: { bedrockApiKey: BEDROCK_KEY } }, 'x');
    expect(out).not.toContain(BEDROCK_KEY);
    expect(out).not.toContain(BEDROCK_KEY_2);
    expect(out).toContain('[redacted]');
  });
});

describe('PATCH /admin/users/{id}', () => {
  let key: { accessKeyId: string; rawKey: string; userId: string };

  beforeAll(async () => {
    key = await proxy.createKey('patch-me');
  });

  it('changes the routing strategy, and the proxy’s key cache sees it at once', async () => {
    expect((await proxy.app.resolver.resolve(key.rawKey))?.routingStrategy).toBe('plan_first'); // now cached
    const res = await call('PATCH', `/admin/users/${key.userId}`, { routing_strategy: 'bedrock_only' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: key.userId, name: 'patch-me', routing_strategy: 'bedrock_only' });
    expect((await proxy.app.resolver.resolve(key.rawKey))?.routingStrategy).toBe('bedrock_only');
    await call('PATCH', `/admin/users/${key.userId}`, { routing_strategy: 'plan_only' });
    expect((await proxy.app.resolver.resolve(key.rawKey))?.routingStrategy).toBe('plan_only');
  });

  it('changes name, description and budget, alone or together, and returns the updated user', async () => {
    const before = (await call('GET', `/admin/users/${key.userId}`)).body;
    await new Promise((r) => setTimeout(r, 5));
    const res = await call('PATCH', `/admin/users/${key.userId}`, { name: ' patched ', description: 'ml team', monthly_budget_usd: '250.50' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'patched', description: 'ml team', monthly_budget_usd: '250.5000', routing_strategy: 'plan_only', created_at: before.created_at });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    expect((await call('PATCH', `/admin/users/${key.userId}`, { monthly_budget_usd: 99.5 })).body.monthly_budget_usd).toBe('99.5000');
    expect((await call('PATCH', `/admin/users/${key.userId}`, { monthly_budget_usd: 0 })).body.monthly_budget_usd).toBe('0.0000');
    const cleared = await call('PATCH', `/admin/users/${key.userId}`, { monthly_budget_usd: null, description: null });
    expect(cleared.body).toMatchObject({ monthly_budget_usd: null, description: null, name: 'patched' });
    expect((await call('GET', `/admin/users/${key.userId}`)).body).toEqual(cleared.body);
  });

  it.each([
    [{}, 400, /^body: give at least one of name, description, routing_strategy, monthly_budget_usd$/],
    [{ routing_strategy: 'sometimes' }, 400, /^routing_strategy: must be one of plan_first, bedrock_only, plan_only$/],
    [{ monthly_budget_usd: -5 }, 400, /^monthly_budget_usd: /],
    [{ monthly_budget_usd: 'lots' }, 400, /^monthly_budget_usd: /],
    [{ monthly_budget_usd: '1.12345' }, 400, /^monthly_budget_usd: /],
    [{ name: '' }, 400, /^name: /],
    [{ name: '   ' }, 400, /^name: must not be blank$/],
    [{ status: 'inactive' }, 400, /^status: is not a known field$/],
  ])('refuses %o naming the field', async (body, status, message) => {
    const res = await call('PATCH', `/admin/users/${key.userId}`, body);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toMatch(message);
  });

  it('answers a taken name with 409, an unknown user with 404', async () => {
    await proxy.createKey('someone-else');
    const taken = await call('PATCH', `/admin/users/${key.userId}`, { name: 'someone-else' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toMatch(/^name: /);
    expect((await call('PATCH', '/admin/users/00000000-0000-4000-8000-000000000000', { routing_strategy: 'plan_first' })).status).toBe(404);
    expect((await call('PATCH', `/admin/users/${key.userId}`, { routing_strategy: 'plan_first' }, null)).status).toBe(401);
  });
});
