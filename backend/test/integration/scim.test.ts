import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { deriveJwtKey, signPersonToken, type PersonIdentity } from '../../src/security/jwt.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient, auditOf, eventually, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { TestDatabase } from '../support/db.ts';

// SCIM 2.0 provisioning from an identity provider: users created, found by userName, deactivated
// (`active: false`, as Entra ID and Okta send it) and deleted, with a token of kind scim. A
// deprovisioning call through one task makes the user's key answer 401 on another task sharing the
// database within a second (the admin routes' own change feed), measured from sending the call to
// the first 401; and it ends the dashboard session of the person the user is, on every task.

const WITHIN_MS = 1_000;
/** The tasks' session key (startTestApp's KEY_HASHER_SECRET): sessions as company sign-in mints them. */
const jwtKey = deriveJwtKey('test-key-hasher-secret-0123456789abcdef');
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

/**
 * Milliseconds from sending `call` (the identity provider's deprovisioning) to the first time
 * `refused` holds on the other task, polled back to back; fails after 5 s.
 */
async function timeToRefusal(call: () => Promise<{ status: number }>, expectedStatus: number, refused: () => Promise<boolean>): Promise<number> {
  const sent = performance.now();
  expect((await call()).status).toBe(expectedStatus);
  while (!(await refused())) {
    if (performance.now() - sent > 5_000) throw new Error('not refused within 5 s');
  }
  return Math.round(performance.now() - sent);
}

/** Times measured in this file, reported once at the end (README "Leavers lose access: SCIM 2.0"). */
const measured: Record<string, number> = {};
afterAll(() => console.info(`SCIM deprovisioning → first 401 on the other task (ms): ${JSON.stringify(measured)}`));

/** A dashboard session of `person`, as company sign-in gives it. */
const sessionOf = async (person: PersonIdentity) => (await signPersonToken(jwtKey, person)).token;

/** The status `token` gets from the guarded route `path` on task `app`. */
async function statusOn(app: TestApp, token: string, path = '/admin/auth/session'): Promise<number> {
  const res = await request(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.body.dump();
  return res.statusCode;
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
    const deactivate = () => scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    measured.patchActiveFalse = await timeToRefusal(deactivate, 200, async () => (await use(b, key.raw_key)) === 401);
    expect(measured.patchActiveFalse).toBeLessThan(WITHIN_MS);
    expect((await scim('GET', `/Users/${user.id}`)).body!.active).toBe(false);

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
    measured.delete = await timeToRefusal(() => scim('DELETE', `/Users/${user.id}`), 204, async () => (await use(b, key.raw_key)) === 401);
    expect(measured.delete).toBeLessThan(WITHIN_MS);
    expect((await admin('GET', `/admin/access-keys/${key.id}`)).body.status).toBe('revoked');
    expect((await scim('GET', `/Users/${user.id}`)).status).toBe(404);
  });
});

describe("SCIM deprovisioning ends the person's dashboard session on every task", () => {
  it('an admin from the groups claim, linked to no user: ended while a user of their email is deactivated, back after reactivation', async () => {
    const boss = await sessionOf({ username: 'Boss@Example.com', role: 'admin', userId: null });
    const user = (await scim('POST', '/Users', { userName: 'boss@example.com' })).body!;
    expect(await statusOn(b, boss, '/admin/users')).toBe(200);

    const deactivate = () => scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    measured.adminSessionPatch = await timeToRefusal(deactivate, 200, async () => (await statusOn(b, boss, '/admin/users')) === 401);
    expect(measured.adminSessionPatch).toBeLessThan(WITHIN_MS);
    const refused = await request(`${b.url}/admin/auth/session`, { headers: { authorization: `Bearer ${boss}` } });
    expect(refused.statusCode).toBe(401);
    expect(((await refused.body.json()) as { error: { message: string } }).error.message).toBe(
      'session ended: the user of Boss@Example.com is deactivated (deprovisioned); sign in again once it is reactivated',
    );
    expect(await statusOn(a, boss)).toBe(401);

    expect((await scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] })).status).toBe(200);
    expect(await statusOn(b, boss, '/admin/users')).toBe(200);
  });

  it('a viewer linked to their user: ended for good when the user is deleted, on the other task at once', async () => {
    const user = (await scim('POST', '/Users', { userName: 'auditor@example.com' })).body!;
    const viewer = await sessionOf({ username: 'auditor@example.com', role: 'viewer', userId: user.id! });
    expect(await statusOn(b, viewer, '/admin/users')).toBe(200);

    measured.viewerSessionDelete = await timeToRefusal(() => scim('DELETE', `/Users/${user.id}`), 204, async () => (await statusOn(b, viewer, '/admin/users')) === 401);
    expect(measured.viewerSessionDelete).toBeLessThan(WITHIN_MS);
    const refused = await request(`${b.url}/admin/users`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(((await refused.body.json()) as { error: { message: string } }).error.message).toMatch(/^session ended: the user of auditor@example\.com has been deleted/);
    // A new user of that email (provisioned again) does not bring the old session back.
    expect((await scim('POST', '/Users', { userName: 'auditor@example.com' })).status).toBe(201);
    expect(await statusOn(b, viewer)).toBe(401);
  });

  it('an admin linked to no user: ended when a user of their email is deleted after they signed in, not by one deleted before', async () => {
    const before = (await scim('POST', '/Users', { userName: 'rehired@example.com' })).body!;
    expect((await scim('DELETE', `/Users/${before.id}`)).status).toBe(204);
    // Signed in after that deletion (JWT times are whole seconds): that deletion is history.
    await new Promise((r) => setTimeout(r, 1_100));
    const rehired = await sessionOf({ username: 'rehired@example.com', role: 'admin', userId: null });
    expect(await statusOn(b, rehired, '/admin/users')).toBe(200);

    const again = (await scim('POST', '/Users', { userName: 'rehired@example.com' })).body!;
    expect(await statusOn(b, rehired, '/admin/users')).toBe(200);
    expect((await scim('DELETE', `/Users/${again.id}`)).status).toBe(204);
    expect(await statusOn(b, rehired, '/admin/users')).toBe(401);
  });

  it("a developer: deactivation closes their own routes (403, saying why), deletion ends the session", async () => {
    const user = (await scim('POST', '/Users', { userName: 'dev.leaver@example.com' })).body!;
    const developer = await sessionOf({ username: 'dev.leaver@example.com', role: 'developer', userId: user.id! });
    expect(await statusOn(b, developer, '/admin/me')).toBe(200);

    expect((await scim('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    const closed = await request(`${b.url}/admin/me/access-keys`, { headers: { authorization: `Bearer ${developer}` } });
    expect(closed.statusCode).toBe(403);
    expect(((await closed.body.json()) as { error: { message: string } }).error.message).toBe('your user is inactive; ask an admin');

    expect((await scim('DELETE', `/Users/${user.id}`)).status).toBe(204);
    expect(await statusOn(b, developer)).toBe(401);
    expect(await statusOn(b, developer, '/admin/me')).toBe(401);
  });

  it('leaves the break-glass admin and automation tokens alone', async () => {
    expect((await admin('GET', '/admin/users')).status).toBe(200);
    const token = (await admin('POST', '/admin/tokens', { name: 'ci', role: 'viewer', expires_in_days: 1 })).body.token as string;
    expect(await statusOn(b, token, '/admin/users')).toBe(200);
  });
});
