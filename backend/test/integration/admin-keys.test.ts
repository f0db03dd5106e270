import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient, auditOf, eventually, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const GRACE_SECONDS = 3;
const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS1yb3RhdGlvbi10ZXN0LTEyMzQ=';

let proxy: TestApp;
let fake: FakeAnthropic;
let call: AdminCall;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url, KEY_ROTATION_GRACE: String(GRACE_SECONDS) });
  call = await adminClient(proxy);
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

async function use(rawKey: string): Promise<number> {
  const res = await request(`${proxy.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function newKey(name: string, body: unknown = {}) {
  const user = (await call('POST', '/admin/users', { name })).body as { id: string };
  const key = (await call('POST', `/admin/users/${user.id}/access-keys`, body)).body as { id: string; raw_key: string };
  return { userId: user.id, keyId: key.id, rawKey: key.raw_key };
}

describe('rotation', () => {
  it('gives a new key; both work during the grace period, then the old one is refused and revoked with no admin call', async () => {
    const { userId, keyId, rawKey } = await newKey('rotor', { bedrock_region: 'eu-west-1' });
    expect((await call('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).status).toBe(200);
    expect(await use(rawKey)).toBe(200); // cached by the proxy before the rotation

    const startedAt = Date.now();
    const res = await call('POST', `/admin/access-keys/${keyId}/rotate`);
    expect(res.status).toBe(201);
    const rotated = res.body as { id: string; raw_key: string; replaces: { id: string; rotation_expires_at: string } };
    expect(rotated).toMatchObject({ user_id: userId, status: 'active', bedrock_region: 'eu-west-1', has_bedrock_key: true, raw_key: expect.stringMatching(/^ak_/) });
    expect(rotated.raw_key).not.toBe(rawKey);
    expect(rotated.replaces.id).toBe(keyId);
    expect(Date.parse(rotated.replaces.rotation_expires_at) - startedAt).toBeGreaterThan(GRACE_SECONDS * 1000 - 200);
    expect(Date.parse(rotated.replaces.rotation_expires_at) - startedAt).toBeLessThan(GRACE_SECONDS * 1000 + 1000);
    // The Bedrock key went with it (re-encrypted for the new key id).
    expect(await proxy.app.bedrockKeys.get(rotated.id)).toBe(BEDROCK_KEY);

    expect(await use(rawKey)).toBe(200);
    expect(await use(rotated.raw_key)).toBe(200);
    const during = (await call('GET', `/admin/access-keys/${keyId}`)).body;
    expect(during).toMatchObject({ status: 'rotating', rotation_expires_at: rotated.replaces.rotation_expires_at });

    // After the grace period: refused at once, by the proxy's own clock.
    await new Promise((r) => setTimeout(r, Date.parse(rotated.replaces.rotation_expires_at) - Date.now() + 20));
    expect(await use(rawKey)).toBe(401);
    expect(await use(rotated.raw_key)).toBe(200);
    // And the server records the revocation itself, erasing the old Bedrock key.
    const after = await eventually(async () => {
      const key = (await call('GET', `/admin/access-keys/${keyId}`)).body;
      expect(key.status).toBe('revoked');
      return key;
    });
    expect(after).toMatchObject({ revoked_at: rotated.replaces.rotation_expires_at, has_bedrock_key: false });
    expect(await proxy.app.bedrockKeys.get(rotated.id)).toBe(BEDROCK_KEY);

    const entries = await auditOf(proxy, keyId);
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['access_key.issue', 'admin'],
      ['bedrock_key.set', 'admin'],
      ['access_key.rotate', 'admin'],
      ['access_key.rotation_expired', 'system'],
    ]);
    expect(entries[2]).toMatchObject({ before: { status: 'active' }, after: { status: 'rotating', replaced_by: rotated.id } });
    expect((await auditOf(proxy, rotated.id))[0]).toMatchObject({ action: 'access_key.issue', after: { rotated_from: keyId } });
    expect(JSON.stringify(entries)).not.toContain(rotated.raw_key);
  });

  it('rotates only an active key', async () => {
    const { keyId } = await newKey('rotor-twice');
    expect((await call('POST', `/admin/access-keys/${keyId}/rotate`)).status).toBe(201);
    const again = await call('POST', `/admin/access-keys/${keyId}/rotate`);
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({ type: 'conflict_error', message: `access key ${keyId} is rotating; only an active key can be rotated` });
    await call('DELETE', `/admin/access-keys/${keyId}`);
    expect((await call('POST', `/admin/access-keys/${keyId}/rotate`)).status).toBe(409);
  });

  it('revoking a rotating key ends it at once', async () => {
    const { keyId, rawKey } = await newKey('rotor-revoked');
    await call('POST', `/admin/access-keys/${keyId}/rotate`);
    expect(await use(rawKey)).toBe(200);
    expect((await call('DELETE', `/admin/access-keys/${keyId}`)).status).toBe(204);
    expect(await use(rawKey)).toBe(401);
  });
});

describe('per-key Bedrock region', () => {
  it('is set and cleared, and the proxy sees it on the next request', async () => {
    const { keyId, rawKey } = await newKey('regional');
    expect((await proxy.app.resolver.resolve(rawKey))?.bedrockRegion).toBeNull();
    const set = await call('PATCH', `/admin/access-keys/${keyId}`, { bedrock_region: 'us-west-2' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ id: keyId, bedrock_region: 'us-west-2' });
    expect((await proxy.app.resolver.resolve(rawKey))?.bedrockRegion).toBe('us-west-2');
    expect((await call('PATCH', `/admin/access-keys/${keyId}`, { bedrock_region: null })).body.bedrock_region).toBeNull();
    expect((await proxy.app.resolver.resolve(rawKey))?.bedrockRegion).toBeNull();

    expect((await call('PATCH', `/admin/access-keys/${keyId}`, { bedrock_region: 'moon-base-1' })).body.error.message).toMatch(/^bedrock_region: /);
    expect((await call('PATCH', `/admin/access-keys/${keyId}`, {})).body.error.message).toBe('bedrock_region: is required');
    const [, first] = await auditOf(proxy, keyId);
    expect(first).toMatchObject({ action: 'access_key.update', before: { bedrock_region: null }, after: { bedrock_region: 'us-west-2' } });

    await call('DELETE', `/admin/access-keys/${keyId}`);
    expect((await call('PATCH', `/admin/access-keys/${keyId}`, { bedrock_region: 'us-east-1' })).status).toBe(409);
  });
});

describe('revocation', () => {
  it('erases the key\'s Bedrock key, is audited once, and is harmless to repeat', async () => {
    const { keyId, rawKey } = await newKey('revoked');
    await call('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });
    expect(await proxy.app.bedrockKeys.get(keyId)).toBe(BEDROCK_KEY);
    expect((await call('DELETE', `/admin/access-keys/${keyId}`)).status).toBe(204);
    expect((await call('DELETE', `/admin/access-keys/${keyId}`)).status).toBe(204);
    expect(await use(rawKey)).toBe(401);
    expect(await proxy.app.bedrockKeys.get(keyId)).toBeNull();
    const entries = (await auditOf(proxy, keyId)).filter((e) => e.action === 'access_key.revoke');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ before: { status: 'active', has_bedrock_key: true }, after: { status: 'revoked', bedrock_key_erased: true } });
  });
});

describe("a user's key list", () => {
  it("carries each key's Bedrock key status and circuit breaker, as their own routes state them", async () => {
    const { userId, keyId } = await newKey('listed');
    const bare = (await call('POST', `/admin/users/${userId}/access-keys`, {})).body as { id: string };
    await call('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });
    const items = (await call('GET', `/admin/users/${userId}/access-keys`)).body.items as { id: string; bedrock_key: unknown; circuit_breaker: unknown }[];
    const item = (id: string) => items.find((k) => k.id === id)!;
    expect(item(keyId).bedrock_key).toEqual((await call('GET', `/admin/access-keys/${keyId}/bedrock-key`)).body);
    expect(item(keyId).bedrock_key).toMatchObject({ access_key_id: keyId, configured: true, last4: BEDROCK_KEY.slice(-4) });
    expect(item(bare.id).bedrock_key).toBeNull();
    for (const id of [keyId, bare.id]) {
      expect(item(id).circuit_breaker).toEqual((await call('GET', `/admin/circuit-breakers/${id}`)).body);
      expect(item(id).circuit_breaker).toMatchObject({ access_key_id: id, state: 'closed', failures: 0 });
    }
  });
});
