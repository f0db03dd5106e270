import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOf } from '../../src/accounting/calendar.ts';
import { budgetLedgers } from '../../src/db/schema.ts';
import { errorReply, unifiedLimitHeaders } from '../fakes/anthropic.ts';
import { textMessage } from '../fakes/anthropic-messages.ts';
import { ADMIN_PASSWORD } from '../support/app.ts';
import { runClaudeCodeTty, gatewayToken } from '../support/claude-code-tty.ts';
import { runCli } from '../support/cli.ts';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';

// The interactive Claude Code CLI (under tmux) through the proxy: the status line from the
// settings.json `ccproxy keys issue` prints, and Claude Code's own usage warning firing for a
// developer served by Bedrock near their budget. Claude Code reads the unified limit headers only
// for claude.ai and gateway sign-ins (docs/upstream-apis.md §4.5): the warning test signs in as a
// gateway session, as a Plan developer's claude.ai login would be read.

let stack: FallbackStack;
let configDir: string;
const cli = (args: string[], stdin = '') => runCli({ url: stack.proxy.url, configDir }, args, stdin);
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  stack = await startFallbackStack({ TIMEZONE: 'UTC' });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-cc-plan-'));
  expect((await cli(['login'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
});
afterAll(async () => {
  await stack?.close();
  fs.rmSync(configDir, { recursive: true, force: true });
});

describe('Claude Code and the Plan window', () => {
  it('shows the status line of the settings.json that `ccproxy keys issue` prints', async () => {
    expect((await cli(['users', 'add', 'stella'])).code).toBe(0);
    const issued = await cli(['keys', 'issue', 'stella']);
    expect(issued.code).toBe(0);
    const settings = JSON.parse(issued.stdout.slice(issued.stdout.indexOf('\n{\n') + 1)) as { env: { ANTHROPIC_BASE_URL: string } };
    const baseUrl = settings.env.ANTHROPIC_BASE_URL;
    // One Plan answer so far: 42 % of the 5-hour window, 63 % of the week.
    stack.anthropic.reply({
      kind: 'json',
      body: textMessage({ text: 'ok' }),
      headers: unifiedLimitHeaders({ fiveHour: { utilization: 0.42, reset: nowSeconds() + 3600 }, sevenDay: { utilization: 0.63, reset: nowSeconds() + 3 * 86_400 } }),
    });
    const seed = await request(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-oat01-plan' },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(seed.statusCode).toBe(200);
    await seed.body.dump();

    const { screen } = await runClaudeCodeTty({
      baseUrl,
      authToken: 'sk-ant-oat01-plan',
      settings,
      waitFor: /Plan · 5h 42% \(resets \d\d:\d\d\) · 7d 63% \(resets \w{3} \d\d:\d\d\) · Bedrock \$0\.00 this month/,
      timeoutMs: 45_000,
    });
    // Below the input box, as Claude Code draws its status line.
    expect(screen.slice(screen.lastIndexOf('❯'))).toContain('Plan · 5h 42%');
  });

  it("fires Claude Code's own usage warning for a developer served by Bedrock near their budget", async () => {
    const key = await stack.proxy.createKey();
    await stack.proxy.registerBedrockKey(key.accessKeyId);
    const admin = { authorization: `Bearer ${await stack.proxy.adminToken()}`, 'content-type': 'application/json' };
    const budget = await request(`${stack.proxy.url}/admin/users/${key.userId}/budget`, { method: 'PUT', headers: admin, body: JSON.stringify({ monthly_budget_usd: '1000' }) });
    expect(budget.statusCode).toBe(200);
    await budget.body.dump();
    // $930 of $1,000 spent this month already (what is left covers a turn's worst case).
    await stack.proxy.database.db
      .insert(budgetLedgers)
      .values({ userId: key.userId, periodStart: startOf(new Date(), 'month', 'UTC'), spentUsd: '930', reservedUsd: '0' })
      .onConflictDoUpdate({ target: [budgetLedgers.userId, budgetLedgers.periodStart], set: { spentUsd: '930' } });
    // Anthropic is overloaded: every turn of this session is Bedrock's.
    stack.anthropic.reply(...Array.from({ length: 10 }, () => errorReply(529, 'overloaded_error', 'Overloaded')));

    const { screen } = await runClaudeCodeTty({
      baseUrl: `${stack.proxy.url}/ak/${key.rawKey}`,
      authToken: gatewayToken(),
      prompt: 'Say hello.',
      waitFor: /You've used 93% of your usage credits · resets/,
      timeoutMs: 60_000,
    });
    expect(screen).toContain("You've used 93% of your usage credits");
    expect(stack.bedrock.requests.length).toBeGreaterThan(0);
  });
});
