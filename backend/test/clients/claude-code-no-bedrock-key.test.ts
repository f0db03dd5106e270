import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminClient } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { ensureClaudeCode, runClaude, type ClaudeRun } from '../support/claude-code.ts';

// Claude Code for a plan_first developer whose access key has no Bedrock key, while Anthropic
// rate-limits them: the fallback is wanted but impossible, so Claude Code must get Anthropic's own
// 429 (which it knows how to report and retry), never a proxy error in its place; the proxy records
// why (fallback_unavailable: no_bedrock_key) and the readiness endpoint names the key beforehand.

const LIMIT_MESSAGE = 'Number of requests has exceeded your per-minute rate limit (fake Anthropic)';

describe('Claude Code, plan_first without a Bedrock key, while Anthropic rate-limits', () => {
  let claude: string;
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;
  let key: { rawKey: string; userId: string; accessKeyId: string };
  let run: ClaudeRun;

  beforeAll(async () => {
    claude = await ensureClaudeCode();
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1' });
    key = await proxy.createKey(); // plan_first (the default), and no Bedrock key registered
    // Every request of the session is refused; a short retry-after, and runClaude's CLAUDE_CODE_MAX_RETRIES=0, keep the run short.
    anthropic.reply(...Array.from({ length: 20 }, () => errorReply(429, 'rate_limit_error', LIMIT_MESSAGE, { 'retry-after': '1' })));
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-cwd-'));
    run = await runClaude(claude, {
      args: ['-p', 'say hi'],
      cwd,
      env: { ANTHROPIC_BASE_URL: `${proxy.url}/ak/${key.rawKey}`, ANTHROPIC_API_KEY: 'sk-ant-api03-developer' },
      trapProxy: 'http://127.0.0.1:9',
    });
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await anthropic?.close();
    await bedrock?.close();
  });

  it('reports Anthropic’s rate limit, not a proxy error', () => {
    const output = run.stdout + run.stderr;
    expect(run.code).not.toBe(0);
    // Claude Code 2.1.332 prints `API Error: Request rejected (429) · <Anthropic's message>`.
    expect(output).toContain(`Request rejected (429) · ${LIMIT_MESSAGE}`);
    expect(output).not.toMatch(/Bedrock|mapping|access key/i);
    expect(bedrock.requests).toHaveLength(0);
  });

  it('stores each refused turn with fallback_unavailable = no_bedrock_key, and the access line says so', async () => {
    await proxy.flushUsage();
    const events = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, key.accessKeyId));
    const messages = events.filter((e) => e.endpoint === 'messages');
    expect(messages.length).toBeGreaterThan(0);
    for (const e of messages) expect(e).toMatchObject({ provider: 'plan', statusCode: 429, isFallback: false, fallbackUnavailable: 'no_bedrock_key', errorCode: null });
    const lines = proxy.logs.filter((l) => l.msg === 'request' && l.endpoint === 'messages');
    expect(lines.length).toBe(messages.length);
    for (const l of lines) expect(l).toMatchObject({ status: 429, provider: 'plan', fallbackUnavailable: 'no_bedrock_key' });
  });

  it('is named by GET /admin/fallback-readiness', async () => {
    const admin = await adminClient(proxy);
    const readiness = (await admin('GET', '/admin/fallback-readiness')).body as { keys_without_bedrock_key: { access_key_id: string; routing_strategy: string }[] };
    expect(readiness.keys_without_bedrock_key).toEqual([expect.objectContaining({ access_key_id: key.accessKeyId, routing_strategy: 'plan_first' })]);
  });
});
