import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient, auditOf, eventually, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { TestDatabase } from '../support/db.ts';

// SCIM 2.0 provisioning from an identity provider: users created, found by userName, deactivated
// (`active: false`, as Entra ID and Okta send it) and deleted, with a token of kind scim. A
// deprovisioning call through one task makes the user's key answer 401 on another task sharing the
// database within a second (the admin routes' own change feed).

const WITHIN_MS = 1_000;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let fake: FakeAnthropic;
let a: TestApp; // where the identity provider calls
let b: TestApp; // another task serving traffic
let peer: Database;
let admin: AdminCall;
let scimToken: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  a = await startTestApp({ PLAN_API_URL: fake.url });
  peer = await (a.database as TestDatabase).openPeer();
  b = await startTestApp({ PLAN_API_URL: fake.url }, { database: peer });
  admin = await adminClient(a);
  const created = await admin('POST', '/admin/tokens', { name: 'okta', role: 'scim', expires_in_days: 365 });
  expect(created.status).toBe(201);
  scimToken = created.body.token;
});
afterAll(async () => {
  await b.close();
  await peer.close();
  await a.close();
  await fake.close();
});

/** A SCIM resource or error as the tests read it. */
interface ScimBody {
  [attribute: string]: unknown;
  id?: string;
  active?: boolean;
}

/** A SCIM call as an identity provider makes it (application/scim+json). */
async function scim(method: string, path: string, body?: unknown, token: string | null = scimToken) {
  const res = await request(`${a.url}/scim/v2${path}`, {
    method: method as 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/scim+json; charset=utf-8' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, type: res.headers['content-type'], body: text ? (JSON.parse(text) as ScimBody) : undefined };
}

async function use(app: TestApp, rawKey: string): Promise<number> {
  const res = await request(`${app.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function within(check: () => Promise<void>): Promise<void> {
  await eventually(check, { timeoutMs: WITHIN_MS + 500, intervalMs: 20 });
}

describe('SCIM', () => {
  it('takes only a token of kind scim, which opens nothing of /admin', async () => {
    expect((await scim('GET', '/Users', undefined, null)).status).toBe(401);
    const adminToken = (await admin('POST', '/admin/tokens', { name: 'not-scim', role: 'admin', expires_in_days: 1 })).body.token as string;
    const refused = await scim('GET', '/Users', undefined, adminToken);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    expect((await admin('GET', '/admin/users', undefined, { token: scimToken })).status).toBe(401);
  });

  it('creates a user and finds it by userName', async () => {
    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new.hire@example.com', name: { givenName: 'New', familyName: 'Hire' }, active: true });
    expect(created.status).toBe(201);
    expect(created.type).toMatch(/^application\/scim\+json/);
    expect(created.body).toMatchObject({ userName: 'new.hire@example.com', displayName: 'New Hire', active: true, id: expect.any(String) });
    expect((await scim('POST', '/Users', { userName: 'NEW.HIRE@example.com' })).body).toMatchObject({ status: '409', scimType: 'uniqueness' });

    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "New.Hire@example.com"')}`);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: created.body!.id }] });
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`)).body).toMatchObject({ totalResults: 0, Resources: [] });
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('displayName co "x"')}`)).body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    expect((await auditOf(a, created.body!.id!)).map((e) => [e.action, e.actor])).toEqual([['user.create', 'token:okta']]);
  });

  it('deactivates a leaver (active: false): their key answers 401 on another task within a second, and again 200 after reactivation', async () => {
    const user = (await scim('POST', '/Users', { userName: 'leaver@example.com', displayName: 'Leaver' })).body!;
    const key = (await admin('POST', `/admin/users/${user.id}/access-keys`, {})).body as { raw_key: string };
    expect(await use(b, key.raw_key)).toBe(200);

    // Entra ID's form: a PatchOp with "Replace" and the string "False".
    const patched = await scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(patched.status).toBe(200);
    expect(patched.body!.active).toBe(false);
    await within(async () => expect(await use(b, key.raw_key)).toBe(401));

    // Okta's form: the whole user with active true.
    const put = await scim('PUT', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'leaver@example.com', active: true });
    expect(put.body!.active).toBe(true);
    await within(async () => expect(await use(b, key.raw_key)).toBe(200));
    expect((await auditOf(a, user.id!)).map((e) => e.action)).toEqual(['user.create', 'user.deactivate', 'user.reactivate']);
  });

  it('deletes a user: every key revoked, on every task within a second', async () => {
    const user = (await scim('POST', '/Users', { userName: 'gone@example.com' })).body!;
    const key = (await admin('POST', `/admin/users/${user.id}/access-keys`, {})).body as { id: string; raw_key: string };
    expect(await use(b, key.raw_key)).toBe(200);
    expect((await scim('DELETE', `/Users/${user.id}`)).status).toBe(204);
    await within(async () => expect(await use(b, key.raw_key)).toBe(401));
    expect((await admin('GET', `/admin/access-keys/${key.id}`)).body.status).toBe('revoked');
    expect((await scim('GET', `/Users/${user.id}`)).status).toBe(404);
  });
});
