import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient, eventually, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind, type TestDatabase } from '../support/db.ts';

// Two proxy tasks on one database: an admin change made through one reaches the other's caches
// within a second (LISTEN/NOTIFY), not after a cache TTL. On PostgreSQL each task has its own
// pool and its own listener connection; PGlite lives in one process, so there both share it.

const WITHIN_MS = 1_000;
const BEDROCK_KEY_1 = 'ABSKQmVkcm9ja0FQSUtleS1jb2hlcmVuY2UtMTExMTExMTE=';
const BEDROCK_KEY_2 = 'ABSKQmVkcm9ja0FQSUtleS1jb2hlcmVuY2UtMjIyMjIyMjI=';

let fake: FakeAnthropic;
let a: TestApp; // where the admin works
let b: TestApp; // another task serving traffic
let peer: Database;
let adminA: AdminCall;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  a = await startTestApp({ PLAN_API_URL: fake.url });
  peer = await (a.database as TestDatabase).openPeer();
  b = await startTestApp({ PLAN_API_URL: fake.url }, { database: peer });
  adminA = await adminClient(a);
});
afterAll(async () => {
  await b.close();
  await peer.close();
  await a.close();
  await fake.close();
});

async function use(app: TestApp, rawKey: string): Promise<number> {
  const res = await request(`${app.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function newKey(name: string) {
  const user = (await adminA('POST', '/admin/users', { name })).body as { id: string };
  const key = (await adminA('POST', `/admin/users/${user.id}/access-keys`, {})).body as { id: string; raw_key: string };
  return { userId: user.id, keyId: key.id, rawKey: key.raw_key };
}

/** Runs `check` until it passes, and says how long that took after `since`. */
async function within(since: number, check: () => Promise<void>): Promise<number> {
  await eventually(check, { timeoutMs: WITHIN_MS + 500, intervalMs: 20 });
  return Date.now() - since;
}

describe(`two proxy tasks on one ${testDatabaseKind()} database`, () => {
  it('a key revoked through one is refused by the other within a second', async () => {
    const { keyId, rawKey } = await newKey('coherent-revoke');
    expect(await use(b, rawKey)).toBe(200); // B now holds the key in its cache
    expect(await use(b, rawKey)).toBe(200);

    const at = Date.now();
    expect((await adminA('DELETE', `/admin/access-keys/${keyId}`)).status).toBe(204);
    expect(await use(a, rawKey)).toBe(401); // the task that made the change: at once
    const took = await within(at, async () => expect(await use(b, rawKey)).toBe(401));
    expect(took).toBeLessThan(WITHIN_MS);
  });

  it('a routing change through one is used by the other within a second', async () => {
    const { userId, rawKey } = await newKey('coherent-routing');
    expect((await b.app.resolver.resolve(rawKey))?.routingStrategy).toBe('plan_first');

    const at = Date.now();
    expect((await adminA('PATCH', `/admin/users/${userId}`, { routing_strategy: 'bedrock_only' })).status).toBe(200);
    const took = await within(at, async () => expect((await b.app.resolver.resolve(rawKey))?.routingStrategy).toBe('bedrock_only'));
    expect(took).toBeLessThan(WITHIN_MS);
  });

  it('a deactivated user is refused by the other within a second, and served again after reactivation', async () => {
    const { userId, rawKey } = await newKey('coherent-status');
    expect(await use(b, rawKey)).toBe(200);
    await adminA('POST', `/admin/users/${userId}/deactivate`);
    await within(Date.now(), async () => expect(await use(b, rawKey)).toBe(401));
    await adminA('POST', `/admin/users/${userId}/reactivate`);
    await within(Date.now(), async () => expect(await use(b, rawKey)).toBe(200));
  });

  it('a rotation tells the other task when the old key expires', async () => {
    const { keyId, rawKey } = await newKey('coherent-rotation');
    expect((await b.app.resolver.resolve(rawKey))?.expiresAt).toBeNull();
    const rotated = (await adminA('POST', `/admin/access-keys/${keyId}/rotate`)).body as { replaces: { rotation_expires_at: string } };
    await within(Date.now(), async () =>
      expect((await b.app.resolver.resolve(rawKey))?.expiresAt?.toISOString()).toBe(rotated.replaces.rotation_expires_at),
    );
  });

  it('a replaced or deleted Bedrock key is not used from the other task\'s cache', async () => {
    const { keyId } = await newKey('coherent-bedrock');
    await adminA('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY_1 });
    expect(await b.app.bedrockKeys.get(keyId)).toBe(BEDROCK_KEY_1); // cached for minutes otherwise
    await adminA('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY_2 });
    await within(Date.now(), async () => expect(await b.app.bedrockKeys.get(keyId)).toBe(BEDROCK_KEY_2));
    await adminA('DELETE', `/admin/access-keys/${keyId}/bedrock-key`);
    await within(Date.now(), async () => expect(await b.app.bedrockKeys.get(keyId)).toBeNull());
  });

  it('a model mapping change reaches the other task\'s Bedrock resolver', async () => {
    await adminA('PUT', '/admin/model-mappings/claude-coherent-1', { base_id: 'anthropic.claude-coherent-1-v1:0', geographies: ['eu'] });
    await within(Date.now(), async () =>
      expect(b.app.modelMappings.current()).toContainEqual({ model: 'claude-coherent-1', baseId: 'anthropic.claude-coherent-1-v1:0', geographies: ['eu'] }),
    );
    await adminA('DELETE', '/admin/model-mappings/claude-coherent-1');
    await within(Date.now(), async () => expect(b.app.modelMappings.current().map((m) => m.model)).not.toContain('claude-coherent-1'));
  });

  it('a circuit breaker reset closes the breaker on every task', async () => {
    const { keyId } = await newKey('coherent-breaker');
    for (let i = 0; i < 5; i++) b.app.breakers.failure(keyId, 'upstream_529');
    expect(b.app.breakers.snapshot(keyId).state).toBe('open');
    expect((await adminA('POST', `/admin/circuit-breakers/${keyId}/reset`)).status).toBe(204);
    await within(Date.now(), async () => expect(b.app.breakers.snapshot(keyId).state).toBe('closed'));
  });

  it('a rotated key reaching its expiry is revoked once, by whichever task sweeps first', async () => {
    const { keyId } = await newKey('coherent-sweep');
    await adminA('POST', `/admin/access-keys/${keyId}/rotate`);
    // Expire it now (as if the grace period had passed) and let both tasks sweep at once.
    await a.database.withSession((s) => s.query(`UPDATE access_keys SET rotation_expires_at = now() - interval '1 second' WHERE id = $1`, [keyId]));
    const [fromA, fromB] = await Promise.all([a.app.sweeper.sweep(), b.app.sweeper.sweep()]);
    expect([...fromA, ...fromB].filter((id) => id === keyId)).toHaveLength(1);
    expect((await adminA('GET', `/admin/access-keys/${keyId}`)).body.status).toBe('revoked');
  });
});
