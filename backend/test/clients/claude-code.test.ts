import net from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest, type Reply } from '../fakes/anthropic.ts';
import { cachedUsage, messageToEvents, textMessage, type AnthropicMessage } from '../fakes/anthropic-messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { ensureClaudeCode, runClaude } from '../support/claude-code.ts';

let claude: string;
let fake: FakeAnthropic;
let proxy: TestApp;
let key: { rawKey: string; userId: string };
// A local "HTTP proxy" that refuses everything: any traffic Claude Code sends anywhere but the proxy lands here.
let trap: net.Server;
let strayConnections = 0;
let trapPort: number;

beforeAll(async () => {
  claude = await ensureClaudeCode();
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url });
  key = await proxy.createKey();
  trap = net.createServer((socket) => {
    strayConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
  trap?.close();
});

function claudeP(env: Record<string, string>) {
  return runClaude(claude, { args: ['-p', 'say hi'], env, trapProxy: `http://127.0.0.1:${trapPort}` });
}

describe('Claude Code CLI through the proxy', () => {
  it('prints the upstream reply with the key in ANTHROPIC_BASE_URL, and the turn is recorded', async () => {
    const usage = cachedUsage({ inputTokens: 21, outputTokens: 9, cacheReadTokens: 0, cacheWrite5mTokens: 5800, cacheWrite1hTokens: 0 });
    fake.reply((req) => streamReply(textMessage({ model: modelOf(req), text: 'Hi from the fake upstream, via the proxy.', usage })));
    const before = fake.requests.length;
    const run = await claudeP({ ANTHROPIC_BASE_URL: `${proxy.url}/ak/${key.rawKey}`, ANTHROPIC_API_KEY: 'sk-ant-api03-developer-own' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Hi from the fake upstream, via the proxy.');
    expect(run.code).toBe(0);

    const seen = fake.requests.slice(before).find((r) => r.url.startsWith('/v1/messages'))!;
    expect(seen.url).toBe('/v1/messages?beta=true');
    expect(seen.headers['x-api-key']).toBe('sk-ant-api03-developer-own');
    expect(seen.headers['user-agent']).toMatch(/^claude-cli\//);
    const body = seen.json as { model: string; stream: boolean; tools: unknown[]; messages: { role: string }[] };
    expect(body.stream).toBe(true);
    expect(body.tools.length).toBeGreaterThan(0);
    expect(body.messages.some((m) => m.role === 'system')).toBe(true); // 2026 role passes through

    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.userId, key.userId));
    expect(rows.at(-1)).toMatchObject({ provider: 'plan', outcome: 'completed', stream: true, inputTokens: 21, outputTokens: 9, cacheWrite5mTokens: 5800 });
    expect(strayConnections).toBe(0);
  });

  it('works with ANTHROPIC_AUTH_TOKEN and the key in a custom header instead of the URL', async () => {
    fake.reply((req) => streamReply(textMessage({ model: modelOf(req), text: 'Header route works.' })));
    const before = fake.requests.length;
    const run = await claudeP({
      ANTHROPIC_BASE_URL: proxy.url,
      ANTHROPIC_AUTH_TOKEN: 'sk-ant-oat01-plan-token',
      ANTHROPIC_CUSTOM_HEADERS: `x-proxy-key: ${key.rawKey}`,
    });
    expect(run.stdout.trim()).toBe('Header route works.');
    expect(run.code).toBe(0);
    const seen = fake.requests.slice(before).find((r) => r.url.startsWith('/v1/messages'))!;
    expect(seen.headers.authorization).toBe('Bearer sk-ant-oat01-plan-token');
    expect(seen.headers['x-proxy-key']).toBeUndefined();
    expect(strayConnections).toBe(0);
  });

  it('shows Claude Code a clear failure for a revoked key at once: its own retries stop on the 401', async () => {
    const revoked = await proxy.createKey();
    const admin = { authorization: `Bearer ${await proxy.adminToken()}` };
    const res = await fetch(`${proxy.url}/admin/access-keys/${revoked.accessKeyId}`, { method: 'DELETE', headers: admin });
    expect(res.status).toBe(204);
    const before = fake.requests.length;
    const refusedBefore = proxy.logs.filter((l) => l.code === 'PROXY_KEY_UNKNOWN').length;
    // The CLI's own retry policy, as a developer has it (the other tests turn it off).
    const run = await runClaude(claude, {
      args: ['-p', 'say hi'],
      env: { ANTHROPIC_BASE_URL: `${proxy.url}/ak/${revoked.rawKey}`, ANTHROPIC_API_KEY: 'sk-x' },
      trapProxy: `http://127.0.0.1:${trapPort}`,
      unsetEnv: ['CLAUDE_CODE_MAX_RETRIES'],
    });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/401|Invalid or inactive access key|authentication/i);
    // "At once": the CLI's start-up included, the developer sees the 401 in under 5 s (not after minutes of retries).
    console.info(`Claude Code reported the revoked key after ${Math.round(run.elapsedMs)} ms`);
    expect(run.elapsedMs).toBeLessThan(5000);
    expect(fake.requests.length).toBe(before);
    // One request, no retries: the answer said not to.
    expect(proxy.logs.filter((l) => l.code === 'PROXY_KEY_UNKNOWN').length - refusedBefore).toBe(1);
  });
});

const modelOf = (req: RecordedRequest) => (req.json as { model: string }).model;
const streamReply = (message: AnthropicMessage): Reply => ({ kind: 'stream', events: messageToEvents(message, { textChunks: 3 }) });
