import Anthropic from '@anthropic-ai/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, screenshotPath, stopAfterFirstFailure, watchedPage } from './support/browser.ts';
import { assertDashboardBuilt, heading, horizontalOverflow, isFocused, visible } from './support/dashboard.ts';

// One admin's session through the dashboard, in order: each step starts where the last one left
// the page, as a person would use it. One browser and one server for the whole file.

let fake: FakeAnthropic;
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
// Uncaught exceptions and console errors in the pages, other than refused requests (a wrong
// password and a signed-out session check are 401s by design; the browser logs those itself).
const scriptErrors: string[] = [];

// What the steps learn and later steps use.
const USER = 'Ada Lovelace';
// The email company sign-in would link Ada to, set on her page.
const EMAIL = 'ada.lovelace@example.com';
let rawKey = '';
let keyPrefix = '';
// A Bedrock API key: only its last four characters may ever be shown again.
const BEDROCK_KEY = 'ABSKQmVkcm9ja0FQSUtleS1lMmUtc2VjcmV0LTAxMjM0NTY3ODk=WXYZ';
// A priced model, and the usage the fake Anthropic reports for the two requests.
const MODEL = 'claude-sonnet-5-5';
const PLAIN_USAGE = { input_tokens: 1200, output_tokens: 300 };
const STREAM_USAGE = { input_tokens: 800, output_tokens: 200 };
// A model of the admin's own, priced and mapped through the dashboard.
const OWN_MODEL = 'claude-e2e-test-1';

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchChromium();
  fake = await startFakeAnthropic();
  app = await startTestApp({ PLAN_API_URL: fake.url });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await watchedPage(context, scriptErrors);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.close();
  await fake?.close();
});

function mainNav() {
  return page.getByRole('navigation', { name: 'Main' });
}

stopAfterFirstFailure();

/** A full-page screenshot at 1280 px, kept as a test artifact. */
async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name), fullPage: true });
}

describe('dashboard', () => {
  it('opens on the login page, reachable by keyboard, and shows an error for bad credentials', async () => {
    await page.goto(`${app.url}/`);
    await visible(heading(page, 'Sign in'));
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.title()).toMatch(/^Sign in/);
    await screenshot('login');

    // Tab reaches the username field first, then the password; Enter submits the form.
    await page.keyboard.press('Tab');
    expect(await isFocused(page.getByLabel('Username'))).toBe(true);
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    expect(await isFocused(page.getByLabel('Password'))).toBe(true);
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');

    const alert = await visible(page.getByRole('alert'));
    expect(await alert.textContent()).toMatch(/wrong username or password/i);
    await visible(heading(page, 'Sign in'));
  });

  it('logs in with the right password (Enter in the password field)', async () => {
    const password = page.getByLabel('Password');
    await password.fill(ADMIN_PASSWORD);
    await password.press('Enter');
    await visible(heading(page, 'Overview'));
    expect(new URL(page.url()).pathname).toBe('/');
    await visible(page.getByText('Signed in as'));
    expect(await page.title()).toMatch(/^Overview/);

    // From a fresh load, the first Tab offers to skip the navigation, and Enter does.
    await page.reload();
    await visible(heading(page, 'Overview'));
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await isFocused(skip)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await isFocused(page.getByRole('main'))).toBe(true);
  });

  it('creates a user', async () => {
    await mainNav().getByRole('link', { name: 'Users' }).click();
    await visible(heading(page, 'Users'));
    await page.getByLabel('Name', { exact: true }).fill(USER);
    await page.getByLabel('Description (optional)').fill('made by the browser test');
    await page.getByRole('button', { name: 'Create user' }).click();

    await visible(heading(page, USER));
    // The user page's panels may still show their sr-only "Loading…" status: wait for the one that says so.
    await visible(page.getByRole('status').filter({ hasText: /user created/i }));
    expect(new URL(page.url()).pathname).toMatch(/^\/users\/[^/]+$/);
  });

  it('issues an access key and shows it once with the Claude Code set-up for this server', async () => {
    await page.getByRole('button', { name: 'Issue new key' }).click();
    const reveal = await visible(page.getByTestId('new-key'));
    rawKey = (await reveal.getByTestId('new-key-value').textContent())!.trim();
    expect(rawKey).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);

    const baseUrl = `${app.url}/ak/${rawKey}`;
    expect((await reveal.getByTestId('setup-shell').textContent())!.trim()).toBe(`export ANTHROPIC_BASE_URL=${baseUrl}`);
    // settings.json also gets Claude Code's status line: the proxy's one line for this key.
    expect(JSON.parse((await reveal.getByTestId('setup-settings').textContent())!)).toEqual({
      env: { ANTHROPIC_BASE_URL: baseUrl },
      statusLine: { type: 'command', command: `curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' ${baseUrl}/status` },
    });
    await screenshot('user-key-issued');

    // The table lists the key by its prefix only.
    const keys = page.getByTestId('access-keys').getByRole('table');
    const prefixCell = await visible(keys.getByRole('cell', { name: /^ak_.*…$/ }));
    keyPrefix = (await prefixCell.textContent())!.replace('…', '');
    expect(rawKey.startsWith(keyPrefix)).toBe(true);
    expect(keyPrefix.length).toBeLessThan(rawKey.length);

    await reveal.getByRole('button', { name: /hide the key/i }).click();
    await page.getByTestId('new-key').waitFor({ state: 'detached' });
    expect(await page.locator('body').textContent()).not.toContain(rawKey);
  });

  it('registers a Bedrock key and afterwards shows only its last four characters', async () => {
    await page.getByRole('button', { name: `Bedrock key for ${keyPrefix}` }).click();
    await page.getByLabel(`Bedrock API key for ${keyPrefix}`).fill(BEDROCK_KEY);
    await page.getByRole('button', { name: 'Register Bedrock key' }).click();

    const saved = await visible(page.getByRole('status').filter({ hasText: 'Bedrock key ending in' }));
    expect(await saved.textContent()).toContain('WXYZ');
    await visible(page.getByTestId('access-keys').getByRole('cell', { name: '…WXYZ', exact: true }));
    expect(await page.getByLabel(`New Bedrock API key for ${keyPrefix}`).inputValue()).toBe('');
    const text = await page.locator('body').textContent();
    expect(text).not.toContain(BEDROCK_KEY);
    expect(text).not.toContain(BEDROCK_KEY.slice(0, 16));
  });

  it('sets a monthly Bedrock budget', async () => {
    const panel = page.getByTestId('budget');
    await panel.getByLabel('Budget in USD per month').fill('250');
    await panel.getByRole('button', { name: 'Save budget' }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Budget saved' }));
    const budget = panel.locator('dl > div').filter({ has: page.getByText('Budget', { exact: true }) }).locator('dd');
    await visible(budget.getByText('$250.00', { exact: true }));
    await screenshot('user-detail');
  });

  it("sets the user's email (what company sign-in links to), which is there after a reload", async () => {
    const profile = page.getByRole('region', { name: 'Profile and routing' });
    const email = profile.getByLabel('Email (company sign-in)');
    expect(await email.inputValue()).toBe('');
    await email.fill(EMAIL);
    await profile.getByRole('button', { name: 'Save changes' }).click();
    await visible(profile.getByRole('status').filter({ hasText: 'Saved.' }));
    await page.reload();
    await visible(heading(page, USER));
    await expect.poll(() => page.getByRole('region', { name: 'Profile and routing' }).getByLabel('Email (company sign-in)').inputValue()).toBe(EMAIL);
    // Nothing left to save: the form is what the server has.
    expect(await page.getByRole('region', { name: 'Profile and routing' }).getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
  });

  it('shows proxied requests (one plain, one streamed) in the overview numbers and charts', async () => {
    // The key as Claude Code would use it: the SDK pointed at the set-up's base URL.
    const client = new Anthropic({ baseURL: `${app.url}/ak/${rawKey}`, apiKey: 'sk-ant-api03-e2e', maxRetries: 0 });
    const params = { model: MODEL, max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Hello' }] };
    fake.reply({ kind: 'json', body: textMessage({ model: MODEL, text: 'plain answer', usage: PLAIN_USAGE }) });
    const plain = await client.messages.create(params);
    expect(plain.usage.input_tokens).toBe(PLAIN_USAGE.input_tokens);
    fake.reply({ kind: 'stream', events: messageToEvents(textMessage({ model: MODEL, text: 'streamed answer', usage: STREAM_USAGE })) });
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.usage.output_tokens).toBe(STREAM_USAGE.output_tokens);
    expect(fake.requests).toHaveLength(2);
    await app.flushUsage();

    await mainNav().getByRole('link', { name: 'Overview' }).click();
    await visible(heading(page, 'Overview'));
    const requests = await visible(page.getByTestId('card-requests'));
    await visible(requests.getByText('2', { exact: true }));
    const input = PLAIN_USAGE.input_tokens + STREAM_USAGE.input_tokens;
    const output = PLAIN_USAGE.output_tokens + STREAM_USAGE.output_tokens;
    expect(await page.getByTestId('card-tokens').textContent()).toContain(`${(input + output).toLocaleString('en-US')} tokens`);
    expect(await page.getByTestId('card-input-tokens').textContent()).toContain('2K');
    expect(await page.getByTestId('card-output-tokens').textContent()).toContain(String(output));
    // At the shipped list price of claude-sonnet-5-5 ($2 in, $10 out per million): 0.004 + 0.005.
    expect(await page.getByTestId('card-cost').textContent()).toContain('$0.009');

    // Each chart drew its bars as SVG.
    for (const chart of ['chart-tokens', 'chart-cost', 'chart-cost-by-model', 'top-users-tokens', 'top-users-cost']) {
      await visible(page.getByTestId(chart).locator('svg .recharts-bar-rectangle').first());
    }
    await visible(page.getByTestId('chart-cost-by-model').getByRole('cell', { name: MODEL }));
    await visible(page.getByTestId('top-users-tokens').getByRole('link', { name: new RegExp(USER) }));
    await screenshot('overview');
  });

  it('revokes the key, and the proxy then refuses it in Anthropic\'s error shape', async () => {
    await mainNav().getByRole('link', { name: 'Users' }).click();
    await visible(heading(page, 'Users'));
    const row = await visible(page.getByRole('table').getByRole('row').filter({ hasText: USER }));
    // The list names each user's email under their name.
    expect(await row.textContent()).toContain(EMAIL);
    await screenshot('users');
    await row.getByRole('link', { name: USER }).click();
    await visible(heading(page, USER));
    // Reloaded by its address, the page comes back (the server answers client routes with the app).
    await page.reload();
    await visible(heading(page, USER));
    // The user's own usage section counts the same two requests.
    await visible(page.getByTestId('card-requests').getByText('2', { exact: true }));
    await page.getByRole('button', { name: `Revoke ${keyPrefix}` }).click();
    await page.getByRole('group', { name: `Confirm: Revoke ${keyPrefix}` }).getByRole('button', { name: 'Yes, revoke' }).click();
    await visible(page.getByTestId('access-keys').getByText('revoked', { exact: true }));

    const res = await request(`${app.url}/ak/${rawKey}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-api03-e2e' },
      body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Hello again' }] }),
    });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
    expect(fake.requests).toHaveLength(2);
  });

  it('adds a price on the pricing page', async () => {
    await mainNav().getByRole('link', { name: 'Pricing' }).click();
    await visible(heading(page, 'Pricing'));
    // The shipped list prices are there before any change.
    await visible(page.getByRole('table').getByRole('cell', { name: MODEL, exact: true }).first());

    await page.getByLabel('Model', { exact: true }).fill(OWN_MODEL);
    const rates = { 'Input (USD/MTok)': '1.5', 'Output (USD/MTok)': '7.5', 'Cache write 5 min (USD/MTok)': '1.875', 'Cache write 1 h (USD/MTok)': '3', 'Cache read (USD/MTok)': '0.15' };
    for (const [label, value] of Object.entries(rates)) await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: 'Save price' }).click();

    await visible(page.getByRole('status').filter({ hasText: `Price for ${OWN_MODEL}` }));
    const row = await visible(page.getByRole('table').getByRole('row').filter({ hasText: OWN_MODEL }));
    expect(await row.textContent()).toContain('7.5');
    await screenshot('pricing');
  });

  it('maps a model to Bedrock on the model mappings page', async () => {
    await mainNav().getByRole('link', { name: 'Model mappings' }).click();
    await visible(heading(page, 'Model mappings'));
    await visible(page.getByRole('region', { name: 'Shipped defaults' }).getByRole('table'));

    await page.getByLabel('Anthropic model name').fill(OWN_MODEL);
    await page.getByLabel('Bedrock model id or ARN').fill('anthropic.claude-e2e-test-1-v1:0');
    await page.getByRole('checkbox', { name: 'us', exact: true }).check();
    await page.getByRole('button', { name: 'Save mapping' }).click();

    await visible(page.getByRole('status').filter({ hasText: `Mapping for ${OWN_MODEL} saved` }));
    const row = await visible(page.getByRole('region', { name: 'Your mappings' }).getByRole('row').filter({ hasText: OWN_MODEL }));
    expect(await row.textContent()).toContain('anthropic.claude-e2e-test-1-v1:0');
    await screenshot('model-mappings');
  });

  it('lists every change made above in the audit log, with no secret in it', async () => {
    await mainNav().getByRole('link', { name: 'Audit log' }).click();
    await visible(heading(page, 'Audit log'));
    const entries = page.getByRole('region', { name: 'Entries' }).getByRole('table');
    const actions = ['auth.login', 'user.create', 'access_key.issue', 'bedrock_key.set', 'user.budget', 'user.email', 'access_key.revoke', 'model_price.add', 'model_mapping.set'];
    for (const action of actions) await visible(entries.getByRole('cell', { name: action, exact: true }).first());
    const text = await page.locator('body').textContent();
    expect(text).not.toContain(rawKey);
    expect(text).not.toContain(BEDROCK_KEY);
    await screenshot('audit-log');

    // Filtering by action leaves the one revocation.
    await page.getByLabel('Action', { exact: true }).fill('access_key.revoke');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await entries.getByRole('cell', { name: 'user.create', exact: true }).waitFor({ state: 'detached' });
    expect(await entries.locator('tbody tr').count()).toBe(1);
    await visible(entries.getByRole('cell', { name: 'access_key.revoke', exact: true }));
  });

  it('fits a phone screen (390×844) without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [link, title] of [['Overview', 'Overview'], ['Users', 'Users']] as const) {
        await mainNav().getByRole('link', { name: link }).click();
        await visible(heading(page, title));
        if (title === 'Overview') await visible(page.getByTestId('chart-tokens').locator('svg .recharts-bar-rectangle').first());
        else await visible(page.getByRole('table').getByRole('link', { name: USER }));
        expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
        await screenshot(`${title.toLowerCase()}-phone`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('logs out: back to the login page, and the old session no longer works', async () => {
    const cookies = await context.cookies(`${app.url}/admin/`);
    const session = cookies.find((c) => c.name === 'ccproxy_admin_session');
    expect(session?.value).toBeTruthy();
    const withOldCookie = () => request(`${app.url}/admin/auth/session`, { headers: { cookie: `${session!.name}=${session!.value}` } });
    expect((await withOldCookie()).statusCode).toBe(200);

    await page.getByRole('button', { name: 'Log out' }).click();
    await visible(heading(page, 'Sign in'));
    expect(new URL(page.url()).pathname).toBe('/login');

    // A page opened by its address asks to sign in again; the server refuses the old token.
    await page.goto(`${app.url}/users`);
    await visible(heading(page, 'Sign in'));
    const res = await withOldCookie();
    expect(res.statusCode).toBe(401);
    await res.body.dump();
  });

  it('raised no script error on any page along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
