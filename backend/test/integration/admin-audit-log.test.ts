import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let proxy: TestApp;
let call: AdminCall;
let userId: string;
let keyId: string;

beforeAll(async () => {
  proxy = await startTestApp();
  call = await adminClient(proxy);
  userId = (await call('POST', '/admin/users', { name: 'trail' })).body.id;
  await call('PATCH', `/admin/users/${userId}`, { description: 'first' });
  await call('PATCH', `/admin/users/${userId}`, { description: 'second' });
  keyId = (await call('POST', `/admin/users/${userId}/access-keys`, {})).body.id;
  await call('PUT', '/admin/model-mappings/claude-trail-1', { base_id: 'anthropic.claude-trail-1-v1:0', geographies: [] });
});
afterAll(() => proxy.close());

describe('GET /admin/audit-log', () => {
  it('lists entries newest first with a total', async () => {
    const res = await call('GET', '/admin/audit-log');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(5);
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual([
      'model_mapping.set',
      'access_key.issue',
      'user.update',
      'user.update',
      'user.create',
    ]);
    expect(res.body.items[2]).toEqual({
      id: expect.any(Number),
      occurred_at: expect.any(String),
      actor: 'admin',
      action: 'user.update',
      target_type: 'user',
      target_id: userId,
      before: expect.objectContaining({ description: 'first' }),
      after: expect.objectContaining({ description: 'second' }),
      ip: '127.0.0.1',
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it('filters by action, actor, target and time, and pages', async () => {
    const ids = async (query: string) => ((await call('GET', `/admin/audit-log?${query}`)).body.items as { action: string; target_id: string }[]).map((e) => `${e.action} ${e.target_id}`);
    expect(await ids('action=user.update')).toEqual([`user.update ${userId}`, `user.update ${userId}`]);
    expect(await ids(`target_type=access_key&target_id=${keyId}`)).toEqual([`access_key.issue ${keyId}`]);
    expect(await ids('target_type=model_mapping')).toEqual(['model_mapping.set claude-trail-1']);
    expect(await ids('actor=system')).toEqual([]);
    expect((await call('GET', '/admin/audit-log?actor=admin')).body.total).toBe(5);

    const page = await call('GET', '/admin/audit-log?limit=2&offset=1');
    expect(page.body.total).toBe(5);
    expect(page.body.items.map((e: { action: string }) => e.action)).toEqual(['access_key.issue', 'user.update']);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await call('GET', `/admin/audit-log?since=${encodeURIComponent(future)}`)).body.total).toBe(0);
    expect((await call('GET', `/admin/audit-log?until=${encodeURIComponent(future)}`)).body.total).toBe(5);
  });

  it('names the bad filter', async () => {
    expect((await call('GET', '/admin/audit-log?since=yesterday')).body.error.message).toMatch(/^since: /);
    expect((await call('GET', '/admin/audit-log?target_type=planet')).body.error.message).toMatch(/^target_type: must be one of /);
    expect((await call('GET', '/admin/audit-log?limit=0')).body.error.message).toMatch(/^limit: /);
  });
});

describe('the audit table', () => {
  it('is append-only: entries cannot be changed or removed, not even with SQL', async () => {
    await expect(proxy.database.withSession((s) => s.exec(`UPDATE admin_audit_log SET actor = 'nobody'`))).rejects.toThrow(/append-only/);
    await expect(proxy.database.withSession((s) => s.exec('DELETE FROM admin_audit_log'))).rejects.toThrow(/append-only/);
    expect((await call('GET', '/admin/audit-log')).body.total).toBe(5);
  });
});

describe('model mappings', () => {
  it('are listed with the shipped defaults, replaced, validated and removed', async () => {
    const list = (await call('GET', '/admin/model-mappings')).body;
    expect(list.items).toEqual([{ model: 'claude-trail-1', base_id: 'anthropic.claude-trail-1-v1:0', geographies: [], created_at: expect.any(String), updated_at: expect.any(String) }]);
    expect(list.defaults).toContainEqual({ model: 'claude-sonnet-4-5', base_id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', geographies: expect.arrayContaining(['us', 'eu']) });

    // An override of a shipped model wins in the proxy at once.
    const put = await call('PUT', '/admin/model-mappings/claude-sonnet-4-5', { base_id: 'anthropic.claude-sonnet-4-5-20250929-v2:0', geographies: ['us', 'global'] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ model: 'claude-sonnet-4-5', base_id: 'anthropic.claude-sonnet-4-5-20250929-v2:0', geographies: ['us', 'global'] });
    expect(proxy.app.modelMappings.current()).toContainEqual({ model: 'claude-sonnet-4-5', baseId: 'anthropic.claude-sonnet-4-5-20250929-v2:0', geographies: ['us', 'global'] });
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
    expect((await call('PUT', '/admin/model-mappings/claude-sonnet-4-5', { base_id: arn })).body).toMatchObject({ base_id: arn, geographies: [] });

    const bad = async (body: unknown, model = 'claude-x') => (await call('PUT', `/admin/model-mappings/${model}`, body)).body.error?.message as string;
    expect(await bad({ base_id: 'gpt-4o' })).toMatch(/^base_id: /);
    expect(await bad({ base_id: 'anthropic.claude-x-v1:0', geographies: ['mars'] })).toMatch(/^geographies\.0: must be one of /);
    expect(await bad({ base_id: 'anthropic.claude-x-v1:0', geographies: ['us', 'us'] })).toMatch(/^geographies: /);
    expect(await bad({ geographies: [] })).toBe('base_id: is required');
    expect(await bad({ base_id: 'anthropic.claude-x-v1:0' }, '-bad name')).toMatch(/^model: /);

    expect((await call('DELETE', '/admin/model-mappings/claude-sonnet-4-5')).status).toBe(204);
    expect(proxy.app.modelMappings.current().map((m) => m.model)).not.toContain('claude-sonnet-4-5');
    const trail = (await call('GET', '/admin/audit-log?target_type=model_mapping&target_id=claude-sonnet-4-5')).body.items;
    expect(trail.map((e: { action: string }) => e.action)).toEqual(['model_mapping.delete', 'model_mapping.set', 'model_mapping.set']);
    expect(trail[1]).toMatchObject({ before: { base_id: 'anthropic.claude-sonnet-4-5-20250929-v2:0' }, after: { base_id: arn } });
  });
});
