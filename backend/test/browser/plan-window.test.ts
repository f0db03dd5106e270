import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKeyPrefix } from '../../src/security/access-key.ts';
import { unifiedLimitHeaders } from '../fakes/anthropic.ts';
import { cachedUsage, messageToEvents, textMessage, type Usage } from '../fakes/anthropic-messages.ts';
import { ADMIN_PASSWORD } from '../support/app.ts';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';
import { launchChromium, screenshotPath, stopAfterFirstFailure, watchedPage } from './support/browser.ts';
import { assertDashboardBuilt, heading, horizontalOverflow, visible } from './support/dashboard.ts';

// The Plan window on the dashboard, against the real server between a fake Anthropic that answers
// as it does to a Claude plan login (unified limit headers) and a fake Bedrock. One developer's
// Claude Code session: two Plan turns (the second past Anthropic's warning, at 99 % of the 5-hour
// window), then a turn the threshold moves to Bedrock — a session switch with a cache write.

let stack: FallbackStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const scriptErrors: string[] = [];

const USER = 'Grace Hopper';
const MODEL = 'claude-sonnet-5-5';
const SESSION = 'bbbbbbbb-0000-4000-8000-000000000001';
let user: { rawKey: string; userId: string; accessKeyId: string };
let keyPrefix = '';
let admin: Record<string, string>;
// The 5-hour window's reset: the parked key goes back to Anthropic then.
const fiveHourReset = Math.floor(Date.now() / 1000) + 3 * 3600;
const sevenDayReset = Math.floor(Date.now() / 1000) + 4 * 86_400;

/** An instant as the dashboard writes it in the server's TIMEZONE ("2026-11-25 13:04"). */
function wallTime(unixSeconds: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
    new Date(unixSeconds * 1000),
  );
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** One streamed turn of the session, as Claude Code sends it with a Claude plan login. */
async function turn(): Promise<void> {
  const res = await request(`${stack.proxy.url}/ak/${user.rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-oat01-plan', 'x-claude-code-session-id': SESSION },
    body: JSON.stringify({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.body.text();
  expect(res.statusCode, text).toBe(200);
  expect(text).toContain('message_stop');
}

function planAnswer(usage: Partial<Usage>, headers: Record<string, string>) {
  return { kind: 'stream' as const, events: messageToEvents(textMessage({ model: MODEL, text: 'ok', usage })), headers };
}

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchChromium();
  stack = await startFallbackStack();
  user = await stack.proxy.createKey(USER);
  keyPrefix = accessKeyPrefix(user.rawKey);
  await stack.proxy.registerBedrockKey(user.accessKeyId);
  admin = { authorization: `Bearer ${await stack.proxy.adminToken()}` };

  // At claude-sonnet-5-5's list price ($2 in, $10 out per million): $0.30, then $0.60 past the warning.
  stack.anthropic.reply(
    planAnswer({ input_tokens: 100_000, output_tokens: 10_000 }, unifiedLimitHeaders({ fiveHour: { utilization: 0.5, reset: fiveHourReset }, sevenDay: { utilization: 0.3, reset: sevenDayReset } })),
    planAnswer(
      { input_tokens: 200_000, output_tokens: 20_000 },
      unifiedLimitHeaders({
        status: 'allowed_warning',
        fiveHour: { utilization: 0.99, reset: fiveHourReset, surpassedThreshold: 0.9 },
        sevenDay: { utilization: 0.42, reset: sevenDayReset },
      }),
    ),
  );
  // Bedrock in us-east-1 (regional: list price + 10 %): 1,000 in at $2.20, 200,000 written to the
  // 5-minute cache at $2.75 and 2,000 out at $11 per million: $0.0022 + $0.55 + $0.022 = $0.5742.
  const bedrockUsage = cachedUsage({ inputTokens: 1000, outputTokens: 2000, cacheReadTokens: 0, cacheWrite5mTokens: 200_000, cacheWrite1hTokens: 0 });
  stack.bedrock.reply('invoke-with-response-stream', { frames: messageToEvents(textMessage({ model: MODEL, usage: bedrockUsage })).map((e) => ({ chunk: e.data as Record<string, unknown> })) });
  await turn();
  await turn();
  await turn();
  expect(stack.anthropic.requests).toHaveLength(2);
  expect(stack.bedrock.requests).toHaveLength(1);
  await stack.proxy.flushUsage();

  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await watchedPage(context, scriptErrors);
  await page.goto(`${stack.proxy.url}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await visible(heading(page, 'Overview'));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

stopAfterFirstFailure();

async function openUser(name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await visible(heading(page, 'Users'));
  await page.getByRole('table').getByRole('link', { name, exact: true }).click();
  await visible(heading(page, name));
}

describe('Plan window on the dashboard', () => {
  it('the Overview shows the Plan row: capacity now, Plan traffic at API prices, early and late switching, session switches', async () => {
    const card = async (id: string) => (await visible(page.getByTestId(id))).textContent();
    expect(await card('card-plan-capacity')).toMatch(/99% \/ 42%.*Mean of 1 key · 1 parked on Bedrock now/);
    expect(await card('card-plan-api-cost')).toContain('$0.90');
    expect(await card('card-plan-early')).toContain('$0.57');
    expect(await card('card-plan-late')).toContain('$0.60');
    const switches = await card('card-plan-switches');
    expect(switches).toMatch(/Session switches1Their cache writes cost \$0\.55/);

    // The same figures the API gives.
    const res = await request(`${stack.proxy.url}/admin/usage/plan?period=week`, { headers: admin });
    expect(await res.body.json()).toMatchObject({
      plan_cost_at_api_prices_usd: expect.stringMatching(/^0\.90*$/),
      spend_caused_early_usd: expect.stringMatching(/^0\.57420*$/),
      spend_avoided_late_usd: expect.stringMatching(/^0\.60*$/),
      session_switches: 1,
      switch_cache_write_cost_usd: expect.stringMatching(/^0\.550*$/),
      capacity: { keys: 1, mean_5h_utilization: 0.99, mean_7d_utilization: 0.42, parked_keys: 1 },
    });
    await page.screenshot({ path: screenshotPath('overview-plan'), fullPage: true });
  });

  it("the user page shows the key's 5-hour and 7-day use, Anthropic's warning, and Bedrock until the window resets", async () => {
    await openUser(USER);
    const key = await visible(page.getByTestId('plan-windows').getByRole('article', { name: `Plan window of ${keyPrefix}` }));

    const timeZone = stack.proxy.config.timezone;
    const fiveHour = key.getByRole('progressbar', { name: `5-hour window of ${keyPrefix}` });
    expect(await fiveHour.getAttribute('aria-valuetext')).toBe(`99% used, resets ${wallTime(fiveHourReset, timeZone)}`);
    const sevenDay = key.getByRole('progressbar', { name: `7-day window of ${keyPrefix}` });
    expect(await sevenDay.getAttribute('aria-valuetext')).toBe(`42% used, resets ${wallTime(sevenDayReset, timeZone)}`);
    await visible(key.getByText('99%', { exact: true }));
    await visible(key.getByText('42%', { exact: true }));

    await visible(key.getByTestId('plan-warning'));
    expect(await key.getByTestId('plan-warning').textContent()).toContain('Anthropic warning');
    expect(await key.getByTestId('plan-route').textContent()).toBe(`Bedrock: Plan threshold, 5-hour window until ${wallTime(fiveHourReset, timeZone)}`);
    expect(await key.textContent()).toContain('98% (server default)');

    // Over the period: the utilization chart, and Bedrock time and spend by reason.
    const report = page.getByTestId('plan-report');
    await visible(report.locator('svg .recharts-bar-rectangle').first());
    const row = await visible(report.getByRole('row').filter({ hasText: 'Plan threshold' }));
    expect((await row.getByRole('cell').allTextContents()).map((t) => t.trim())).toEqual(['Plan threshold', '1', '5 min', '$0.57']);
    expect(await report.textContent()).toMatch(/Plan traffic at API prices\$0\.90/);
    expect(await report.textContent()).toMatch(/Switch cost \(cache writes\)\$0\.55/);
    await page.screenshot({ path: screenshotPath('user-plan-window'), fullPage: true });
  });

  it('refuses a threshold out of range with the reason, then saves 90 %, which the API and the page then show', async () => {
    const form = page.getByTestId('plan-settings');
    await form.getByLabel('Threshold in %').fill('150');
    await form.getByRole('button', { name: 'Save switch rule' }).click();
    expect(await (await visible(form.getByRole('alert'))).textContent()).toMatch(/at most 100/);

    await form.getByLabel('Threshold in %').fill('90');
    expect(await form.getByRole('radio', { name: 'Own threshold' }).isChecked()).toBe(true);
    await form.getByRole('button', { name: 'Save switch rule' }).click();
    await visible(form.getByRole('status').filter({ hasText: 'reaches 90%' }));
    expect(await form.getByTestId('plan-effective-threshold').textContent()).toContain("90% (the user's own threshold)");

    const res = await request(`${stack.proxy.url}/admin/users/${user.userId}/plan`, { headers: admin });
    expect(await res.body.json()).toMatchObject({ user_id: user.userId, switch_threshold: 0.9, effective_threshold: 0.9, overage: 'move' });
    // The key's card reloads with the user's threshold; a reload of the page keeps it.
    await visible(page.getByTestId('plan-windows').getByText("90% (the user's own)"));
    await page.reload();
    await visible(heading(page, USER));
    await visible(page.getByTestId('plan-windows').getByText("90% (the user's own)"));
    expect(await page.getByTestId('plan-settings').getByLabel('Threshold in %').inputValue()).toBe('90');
  });

  it('fits a phone screen (390×844) without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await visible(page.getByTestId('plan-windows').getByRole('article'));
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: screenshotPath('user-plan-window-phone'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('a user without a Plan reading gets an empty state, and a new key comes with the status line that answers for it', async () => {
    await stack.proxy.createKey('Alan Turing');
    await openUser('Alan Turing');
    await visible(page.getByTestId('plan-windows').getByText('No Plan reading yet'));

    await page.getByRole('button', { name: 'Issue new key' }).click();
    const reveal = await visible(page.getByTestId('new-key'));
    const rawKey = (await reveal.getByTestId('new-key-value').textContent())!.trim();
    const baseUrl = `${stack.proxy.url}/ak/${rawKey}`;
    const settings = JSON.parse((await reveal.getByTestId('setup-settings').textContent())!) as { statusLine: { command: string } };
    expect(settings).toEqual({
      env: { ANTHROPIC_BASE_URL: baseUrl },
      statusLine: { type: 'command', command: `curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' ${baseUrl}/status` },
    });
    // What the command sends: Claude Code's JSON on standard input, posted to the key's status URL.
    const url = settings.statusLine.command.split(' ').at(-1)!;
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: 'cccccccc-0000-4000-8000-000000000002', model: { id: MODEL } }) });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toMatch(/^Plan · no Plan reading yet · Bedrock \$0\.00 this month\n$/);
  });

  it('raised no script error on any page along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
