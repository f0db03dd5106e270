import { count, eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBudgetRepository } from '../../src/db/budget-repository.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let proxy: TestApp;
let fake: FakeAnthropic;
let call: AdminCall;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url });
  call = await adminClient(proxy);
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

/** A request through the proxy with this access key: its status. */
async function use(rawKey: string): Promise<number> {
  const res = await request(`${proxy.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function userWithKey(name: string) {
  const user = (await call('POST', '/admin/users', { name })).body as { id: string };
  const key = (await call('POST', `/admin/users/${user.id}/access-keys`, {})).body as { id: string; raw_key: string };
  return { userId: user.id, keyId: key.id, rawKey: key.raw_key };
}

describe('listing users', () => {
  beforeAll(async () => {
    for (const name of ['list-anna', 'list-ben', 'list-annika', 'list_percent%']) await call('POST', '/admin/users', { name });
    const ben = (await call('GET', '/admin/users?q=list-ben')).body.items[0] as { id: string };
    await call('POST', `/admin/users/${ben.id}/deactivate`);
  });

  it('pages with limit and offset and reports the total', async () => {
    const all = (await call('GET', '/admin/users?q=list')).body;
    expect(all.total).toBe(4);
    const page = (await call('GET', '/admin/users?q=list&limit=2&offset=1')).body;
    expect(page.total).toBe(4);
    expect(page.items.map((u: { name: string }) => u.name)).toEqual(all.items.slice(1, 3).map((u: { name: string }) => u.name));
  });

  it('searches names case-insensitively, treating % and _ literally', async () => {
    expect((await call('GET', '/admin/users?q=ANN')).body.items.map((u: { name: string }) => u.name)).toEqual(['list-anna', 'list-annika']);
    expect((await call('GET', '/admin/users?q=%25')).body.items.map((u: { name: string }) => u.name)).toEqual(['list_percent%']);
    expect((await call('GET', '/admin/users?q=t_p')).body.total).toBe(1);
  });

  it('searches emails too, so a person is found by the address company sign-in knows them by', async () => {
    const anna = (await call('GET', '/admin/users?q=list-anna')).body.items[0] as { id: string };
    expect((await call('PUT', `/admin/users/${anna.id}/email`, { email: 'Anna.Lind@Example.com' })).status).toBe(200);
    expect((await call('GET', '/admin/users?q=anna.lind@example')).body.items.map((u: { name: string }) => u.name)).toEqual(['list-anna']);
    expect((await call('GET', '/admin/users?q=nobody@example')).body.total).toBe(0);
  });

  it('filters by status', async () => {
    expect((await call('GET', '/admin/users?q=list&status=inactive')).body.items.map((u: { name: string }) => u.name)).toEqual(['list-ben']);
    expect((await call('GET', '/admin/users?q=list&status=active')).body.total).toBe(3);
    const bad = await call('GET', '/admin/users?status=asleep');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('status: must be one of active, inactive, deleted');
    expect((await call('GET', '/admin/users?limit=501')).body.error.message).toMatch(/^limit: /);
    expect((await call('GET', '/admin/users?offset=-1')).body.error.message).toMatch(/^offset: /);
  });

  it("carries each user's budget for this month, as GET /users/{id}/budget states it", async () => {
    const spender = (await call('POST', '/admin/users', { name: 'list-spender' })).body as { id: string };
    await call('PUT', `/admin/users/${spender.id}/budget`, { monthly_budget_usd: '10' });
    const month = (await call('GET', `/admin/users/${spender.id}/budget`)).body as { period_start: string };
    await createBudgetRepository(proxy.database.db).applyLedgerDeltas([
      { userId: spender.id, periodStart: new Date(month.period_start), spentUsd: '2.5', releasedUsd: '0' },
    ]);
    const status = (await call('GET', `/admin/users/${spender.id}/budget`)).body;
    const listed = (await call('GET', '/admin/users?q=list-')).body.items as { name: string; budget: unknown }[];
    const budgetOf = (name: string) => listed.find((u) => u.name === name)?.budget;
    expect(budgetOf('list-spender')).toEqual({
      monthly_budget_usd: status.monthly_budget_usd,
      spent_usd: status.spent_usd,
      reserved_usd: status.reserved_usd,
      remaining_usd: status.remaining_usd,
      percent_used: status.percent_used,
    });
    expect(budgetOf('list-spender')).toMatchObject({ monthly_budget_usd: '10.00', spent_usd: '2.50', remaining_usd: '7.50', percent_used: 25 });
    expect(budgetOf('list-anna')).toEqual({ monthly_budget_usd: null, spent_usd: '0.00', reserved_usd: '0.00', remaining_usd: null, percent_used: null });
  });
});

describe('deactivate and reactivate', () => {
  it('blocks the user\'s keys at the proxy at once, and gives them back on reactivation', async () => {
    const { userId, rawKey } = await userWithKey('dee');
    expect(await use(rawKey)).toBe(200);

    const off = await call('POST', `/admin/users/${userId}/deactivate`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: userId, status: 'inactive' });
    expect(await use(rawKey)).toBe(401);
    const again = await call('POST', `/admin/users/${userId}/deactivate`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(`status: user ${userId} is inactive, not active`);

    const on = await call('POST', `/admin/users/${userId}/reactivate`);
    expect(on.body).toMatchObject({ status: 'active' });
    expect(await use(rawKey)).toBe(200);
    expect((await call('POST', `/admin/users/${userId}/reactivate`)).status).toBe(409);

    const entries = await auditOf(proxy, userId);
    expect(entries.map((e) => e.action)).toEqual(['user.create', 'user.deactivate', 'user.reactivate']);
    expect(entries[1]).toMatchObject({ before: { status: 'active' }, after: { status: 'inactive' }, actor: 'admin', targetType: 'user' });
  });
});

describe('soft delete', () => {
  it('revokes every key, erases their Bedrock keys, keeps the usage, and hides the user from lists', async () => {
    const { userId, keyId, rawKey } = await userWithKey('doomed');
    const second = (await call('POST', `/admin/users/${userId}/access-keys`, {})).body as { id: string; raw_key: string };
    expect((await call('PUT', `/admin/access-keys/${keyId}/bedrock-key`, { bedrock_api_key: 'ABSKQmVkcm9ja0FQSUtleS1kb29tZWQtMTIzNDU2Nzg=' })).status).toBe(200);
    expect(await use(rawKey)).toBe(200);
    await proxy.flushUsage();
    const usage = async () =>
      Number((await proxy.database.db.select({ n: count() }).from(usageEvents).where(eq(usageEvents.userId, userId)))[0]!.n);
    expect(await usage()).toBe(1);

    expect((await call('DELETE', `/admin/users/${userId}`)).status).toBe(204);
    expect(await use(rawKey)).toBe(401);
    expect(await use(second.raw_key)).toBe(401);
    expect(await usage()).toBe(1);
    expect(await proxy.app.bedrockKeys.get(keyId)).toBeNull();

    const shown = await call('GET', `/admin/users/${userId}`);
    expect(shown.body).toMatchObject({ status: 'deleted', deleted_at: expect.any(String) });
    const keys = (await call('GET', `/admin/users/${userId}/access-keys`)).body.items as { status: string; has_bedrock_key: boolean }[];
    expect(keys.map((k) => [k.status, k.has_bedrock_key])).toEqual([
      ['revoked', false],
      ['revoked', false],
    ]);
    expect((await call('GET', '/admin/users?q=doomed')).body.total).toBe(0);
    expect((await call('GET', '/admin/users?q=doomed&status=deleted')).body.items[0].id).toBe(userId);

    // A deleted user cannot be changed, given keys or deleted again; the name is free again.
    expect((await call('PATCH', `/admin/users/${userId}`, { name: 'zombie' })).status).toBe(404);
    expect((await call('POST', `/admin/users/${userId}/access-keys`, {})).status).toBe(404);
    expect((await call('POST', `/admin/users/${userId}/reactivate`)).status).toBe(404);
    expect((await call('DELETE', `/admin/users/${userId}`)).status).toBe(404);
    expect((await call('POST', '/admin/users', { name: 'doomed' })).status).toBe(201);

    const [entry] = (await auditOf(proxy, userId)).filter((e) => e.action === 'user.delete');
    expect(entry).toMatchObject({
      before: { status: 'active' },
      after: { status: 'deleted', revoked_access_key_ids: expect.arrayContaining([keyId, second.id]), erased_bedrock_key_ids: [keyId] },
    });
  });
});

describe('changes to a user', () => {
  it('are audited with before and after, and a routing change reaches the proxy at once', async () => {
    const { userId, rawKey } = await userWithKey('router');
    expect((await proxy.app.resolver.resolve(rawKey))?.routingStrategy).toBe('plan_first');
    const res = await call('PATCH', `/admin/users/${userId}`, { routing_strategy: 'plan_only', monthly_budget_usd: '12.5' });
    expect(res.body).toMatchObject({ routing_strategy: 'plan_only', monthly_budget_usd: '12.5000' });
    expect((await proxy.app.resolver.resolve(rawKey))?.routingStrategy).toBe('plan_only');
    const [, update] = await auditOf(proxy, userId);
    expect(update).toMatchObject({
      action: 'user.update',
      before: { routing_strategy: 'plan_first', monthly_budget_usd: null },
      after: { routing_strategy: 'plan_only', monthly_budget_usd: '12.5000' },
    });
  });

  it('are not audited when they fail', async () => {
    const { userId } = await userWithKey('taken');
    const other = (await call('POST', '/admin/users', { name: 'free' })).body as { id: string };
    expect((await call('PATCH', `/admin/users/${other.id}`, { name: 'taken' })).status).toBe(409);
    expect((await auditOf(proxy, other.id)).map((e) => e.action)).toEqual(['user.create']);
    expect((await auditOf(proxy, userId)).map((e) => e.action)).toEqual(['user.create']);
  });
});

describe("a user's email", () => {
  it('is null until set, then in the user, the list and the audit log; null removes it', async () => {
    const user = (await call('POST', '/admin/users', { name: 'mail-mia' })).body as { id: string; email: string | null };
    expect(user.email).toBeNull();

    const set = await call('PUT', `/admin/users/${user.id}/email`, { email: 'Mia@Example.com' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ user_id: user.id, email: 'Mia@Example.com' });
    expect((await call('GET', `/admin/users/${user.id}`)).body.email).toBe('Mia@Example.com');
    const listed = (await call('GET', '/admin/users?q=mail-mia')).body.items as { id: string; email: string | null }[];
    expect(listed.map((u) => [u.id, u.email])).toEqual([[user.id, 'Mia@Example.com']]);
    const [, audited] = await auditOf(proxy, user.id);
    expect(audited).toMatchObject({ action: 'user.email', before: { email: null }, after: { email: 'Mia@Example.com' } });

    expect((await call('PUT', `/admin/users/${user.id}/email`, { email: null })).body.email).toBeNull();
    expect((await call('GET', `/admin/users/${user.id}`)).body.email).toBeNull();
  });

  it('belongs to one user, whatever its case, and must be an email', async () => {
    const a = (await call('POST', '/admin/users', { name: 'mail-a' })).body as { id: string };
    const b = (await call('POST', '/admin/users', { name: 'mail-b' })).body as { id: string };
    expect((await call('PUT', `/admin/users/${a.id}/email`, { email: 'shared@example.com' })).status).toBe(200);
    const taken = await call('PUT', `/admin/users/${b.id}/email`, { email: 'SHARED@example.com' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain('another user already has');
    const bad = await call('PUT', `/admin/users/${b.id}/email`, { email: 'not an email' });
    expect(bad.status).toBe(400);
    expect((await call('GET', `/admin/users/${b.id}`)).body.email).toBeNull();
  });
});
