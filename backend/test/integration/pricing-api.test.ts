import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { textMessage } from '../fakes/anthropic-messages.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind, type TestDatabase } from '../support/db.ts';

interface Price {
  id: string;
  provider: string;
  region: string | null;
  model: string;
  input_usd_per_mtok: string;
  cache_read_usd_per_mtok: string;
  long_context: { threshold_tokens: number; input_usd_per_mtok: string } | null;
  effective_from: string;
  in_effect: boolean;
}

const rates = { input_usd_per_mtok: '1', output_usd_per_mtok: '5', cache_write_5m_usd_per_mtok: '1.25', cache_write_1h_usd_per_mtok: '2', cache_read_usd_per_mtok: '0.1' };

describe(`pricing admin API on ${testDatabaseKind()}`, () => {
  let anthropic: FakeAnthropic;
  let proxy: TestApp;
  let admin: AdminCall;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    proxy = await startTestApp({ PLAN_API_URL: anthropic.url });
    admin = await adminClient(proxy);
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
  });

  it('lists the shipped prices with their history, and which row is in effect', async () => {
    const all = (await admin('GET', '/admin/pricing?provider=anthropic&model=claude-sonnet-5-5')).body.items as Price[];
    expect(all.map((p) => [p.cache_read_usd_per_mtok, p.effective_from, p.in_effect])).toEqual([
      ['0.10', '2026-10-07T00:00:00.000Z', true],
      ['0.20', '2025-01-01T00:00:00.000Z', false],
    ]);
    const current = (await admin('GET', '/admin/pricing?current=true')).body.items as Price[];
    expect(current.every((p) => p.in_effect)).toBe(true);
    const opus = current.filter((p) => p.model === 'claude-opus-5-5');
    expect(opus.map((p) => [p.provider, p.region, p.input_usd_per_mtok])).toEqual([
      ['anthropic', null, '4.00'],
      ['bedrock', 'global', '4.00'],
      ['bedrock', null, '4.40'],
    ]);
    const haiku = current.find((p) => p.provider === 'anthropic' && p.model === 'claude-haiku-5-5');
    expect(haiku?.long_context).toMatchObject({ threshold_tokens: 100_000, input_usd_per_mtok: '0.50' });
  });

  it('refuses a price it cannot hold exactly or that makes no sense, naming the field', async () => {
    for (const [body, status, message] of [
      [{ provider: 'anthropic', region: 'us-east-1', model: 'claude-x-1', ...rates }, 400, 'region: only Bedrock prices have a region'],
      [{ provider: 'bedrock', region: 'mars-1', model: 'claude-x-1', ...rates }, 400, /^region: /],
      [{ provider: 'anthropic', model: 'claude-x-1', ...rates, cache_read_usd_per_mtok: '0.0000001' }, 400, 'cache_read_usd_per_mtok: "0.0000001" has more than 6 decimals'],
      [{ provider: 'anthropic', model: 'claude-x-1', ...rates, input_usd_per_mtok: '-1' }, 400, 'input_usd_per_mtok: must be a non-negative amount in USD, e.g. "12.50"'],
      [{ provider: 'anthropic', model: 'claude-x-1', ...rates, effective_from: 'tomorrow' }, 400, /^effective_from: must be YYYY-MM-DD/],
      [{ provider: 'anthropic', model: 'claude-x-1', ...rates, long_context: { threshold_tokens: 0, ...rates } }, 400, /^long_context/],
      [{ provider: 'anthropic', model: 'claude-x-1', input_usd_per_mtok: '1' }, 400, /is required$/],
    ] as const) {
      const res = await admin('POST', '/admin/pricing', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (typeof message === 'string') expect(res.body.error.message).toBe(message);
      else expect(res.body.error.message).toMatch(message);
    }
  });

  it('adds prices (canonical model name, exact rates, a long-context tier), and not the same one twice', async () => {
    const added = await admin('POST', '/admin/pricing', {
      provider: 'bedrock',
      model: 'global.anthropic.claude-x-2-20260101-v1:0',
      ...rates,
      output_usd_per_mtok: 5.5,
      long_context: { threshold_tokens: 200_000, ...rates, input_usd_per_mtok: '2' },
      effective_from: '2026-11-01T00:00:00+09:00',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      provider: 'bedrock',
      region: 'global', // named by its global profile id
      model: 'claude-x-2',
      output_usd_per_mtok: '5.50',
      long_context: { threshold_tokens: 200_000, input_usd_per_mtok: '2.00' },
      effective_from: '2026-10-31T15:00:00.000Z',
      in_effect: true,
    });
    const again = await admin('POST', '/admin/pricing', { provider: 'bedrock', region: 'global', model: 'claude-x-2', ...rates, effective_from: '2026-10-31T15:00:00Z' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe('effective_from: a bedrock price for claude-x-2 in global already starts at 2026-10-31T15:00:00.000Z');
    const audit = await auditOf(proxy, added.body.id);
    expect(audit.map((e) => e.action)).toEqual(['model_price.add']);
  });

  it('cancels a price that has not taken effect; a price in effect is history', async () => {
    const scheduled = await admin('POST', '/admin/pricing', { provider: 'anthropic', model: 'claude-x-3', ...rates, effective_from: '2099-01-01' });
    expect(scheduled.body.in_effect).toBe(false);
    const inEffect = await admin('POST', '/admin/pricing', { provider: 'anthropic', model: 'claude-x-3', ...rates });
    expect(inEffect.body.in_effect).toBe(true);
    expect((await admin('DELETE', `/admin/pricing/${scheduled.body.id}`)).status).toBe(204);
    const refused = await admin('DELETE', `/admin/pricing/${inEffect.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe('price: it has taken effect and is history; add a new price instead');
    expect((await admin('DELETE', '/admin/pricing/999999999')).status).toBe(404);
    expect((await admin('DELETE', '/admin/pricing/abc')).status).toBe(400);
    expect((await auditOf(proxy, scheduled.body.id)).map((e) => e.action)).toEqual(['model_price.add', 'model_price.cancel']);
  });

  it('prices the next request on every task sharing the database with the new row at once', async () => {
    const peer = await startTestApp({ PLAN_API_URL: anthropic.url }, { database: await (proxy.database as TestDatabase).openPeer() });
    try {
      const key = await proxy.createKey();
      const res = await admin('POST', '/admin/pricing', { provider: 'anthropic', model: 'claude-x-4', ...rates, input_usd_per_mtok: '7' });
      expect(res.status).toBe(201);
      // The other task heard of it (LISTEN/NOTIFY), well before its periodic refresh.
      await expect.poll(() => peer.app.accounting.prices.current().rows.some((r) => r.id === res.body.id), { timeout: 5000 }).toBe(true);
      anthropic.reply({ kind: 'json', body: textMessage({ model: 'claude-x-4', usage: { input_tokens: 1_000_000, output_tokens: 0 } }) });
      const answer = await request(`${peer.url}/ak/${key.rawKey}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
        body: JSON.stringify({ model: 'claude-x-4', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(answer.statusCode).toBe(200);
      await answer.body.arrayBuffer();
      await peer.flushUsage();
      const [row] = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, key.accessKeyId));
      expect(row?.costUsd).toBe('7.00');
    } finally {
      await peer.close();
      await peer.database.close(); // a peer handle: PGlite's is a no-op
    }
  });
});
