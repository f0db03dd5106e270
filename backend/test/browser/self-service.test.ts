import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/admin/session-cookie.ts';
import { accessKeyPrefix } from '../../src/security/access-key.ts';
import { startFakeAnthropic, unifiedLimitHeaders, type FakeAnthropic } from '../fakes/anthropic.ts';
import { textMessage } from '../fakes/anthropic-messages.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.ts';
import { signInWithCompany as signIn } from './support/company-sign-in.ts';
import { seriousAxeViolations } from './support/axe.ts';
import { launchChromium, stopAfterFirstFailure, watchedPage } from './support/browser.ts';
import { assertDashboardBuilt, heading, horizontalOverflow, visible } from './support/dashboard.ts';

// Developer self-service in the dashboard (issue #19): a developer signs in with the company identity
// provider (oidc-provider on 127.0.0.1), lands on their own page, issues a key, registers its Bedrock
// key, sends a request through the proxy and sees it in their usage, budget and Plan window, rotates
// and revokes keys, and logs out (the session then answers 401); admin pages show "not available"
// and no other user's data; a viewer sees Users without the controls that change things. One
// browser, one identity provider and one server for the whole file.

let idp: TestIdentityProvider;
let fake: FakeAnthropic;
let app: TestApp;
let call: AdminCall;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const scriptErrors: string[] = [];

const MODEL = 'claude-sonnet-5-5';
const DEVELOPER = 'Dana Developer';
const OTHER = 'Oscar Other';
const BEDROCK_KEY = 'ABSK-dana-bedrock-key-7xQ9';
let developerId: string;
let otherId: string;
/** The key the developer issued on their page, for the request through the proxy. */
let keyForProxy = '';
/** The Plan answer's windows: 37 % of the 5-hour one, 12 % of the 7-day one. */
const fiveHourReset = Math.floor(Date.now() / 1000) + 2 * 3600;
const sevenDayReset = Math.floor(Date.now() / 1000) + 3 * 86_400;

/** What a key gets from the proxy (200 through to the fake Anthropic, 401 once revoked). */
async function proxyStatus(rawKey: string): Promise<number> {
  const res = await request(`${app.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-oat01-dana' },
    body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  await res.body.dump();
  return res.statusCode;
}

beforeAll(async () => {
  assertDashboardBuilt();
  idp = await startIdentityProvider();
  fake = await startFakeAnthropic();
  app = await startTestApp({
    PLAN_API_URL: fake.url,
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_VIEWER_VALUES: 'auditors',
  });
  idp.serve({
    redirectUris: [`${app.url}/admin/auth/oidc/callback`],
    people: { dana: { email: 'dana@example.com', groups: ['staff'] }, victor: { email: 'victor@example.com', groups: ['auditors'] }, nora: { email: 'nora@example.com', groups: ['staff'] } },
  });
  call = await adminClient(app);
  // The developer's user carries their company email, so their first sign-in links to it.
  developerId = (await call('POST', '/admin/users', { name: DEVELOPER })).body.id as string;
  expect((await call('PUT', `/admin/users/${developerId}/email`, { email: 'dana@example.com' })).status).toBe(200);
  expect((await call('PUT', `/admin/users/${developerId}/budget`, { monthly_budget_usd: '40' })).status).toBe(200);
  otherId = (await app.createKey(OTHER)).userId;

  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await watchedPage(context, scriptErrors);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.close();
  await fake?.close();
  await idp?.close();
});

stopAfterFirstFailure();

/** Company sign-in as `account` through this file's identity provider. */
const signInWithCompany = (p: Page, account: string, loginPath?: string) => signIn(p, { appUrl: app.url, issuer: idp.issuer }, account, loginPath);

describe('a developer', () => {
  it('signs in with the company identity provider and lands on their own page', async () => {
    await page.goto(`${app.url}/login`);
    // The password form stays beside the company button (the break-glass admin).
    await visible(page.getByLabel('Password'));
    await signInWithCompany(page, 'dana');
    await visible(heading(page, 'My keys & usage'));
    await visible(page.getByTestId('signed-in-as').getByText('dana@example.com'));
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('(developer)');
    // Their nav has their page only.
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['My keys & usage']);
    await visible(page.getByText(`Signed in as the user ${DEVELOPER}`));
  });

  it('issues a key and sees it once with the Claude Code set-up', async () => {
    await visible(page.getByTestId('key-count').getByText('You hold 0 of the 3 unrevoked keys you may hold', { exact: false }));
    await page.getByRole('button', { name: 'Issue new key' }).click();
    const shown = await visible(page.getByTestId('new-key-value'));
    const rawKey = ((await shown.textContent()) ?? '').trim();
    expect(rawKey).toMatch(/^ak_/);
    expect(await page.getByTestId('setup-shell').textContent()).toBe(`export ANTHROPIC_BASE_URL=${app.url}/ak/${rawKey}`);
    const settings = JSON.parse((await page.getByTestId('setup-settings').textContent()) ?? '') as { env: Record<string, string>; statusLine: { command: string } };
    expect(settings.env.ANTHROPIC_BASE_URL).toBe(`${app.url}/ak/${rawKey}`);
    expect(settings.statusLine.command).toContain(`${app.url}/ak/${rawKey}/status`);
    await visible(page.getByTestId('key-count').getByText('You hold 1 of the 3 unrevoked keys you may hold', { exact: false }));
    // The key is the developer's own (the admin API agrees).
    const keys = (await call('GET', `/admin/users/${developerId}/access-keys`)).body.items as { key_prefix: string }[];
    expect(keys.map((k) => rawKey.startsWith(k.key_prefix))).toEqual([true]);
    keyForProxy = rawKey;
    await page.getByRole('button', { name: 'I have copied it, hide the key' }).click();
    await page.getByTestId('new-key').waitFor({ state: 'detached' });
  });

  it('registers a Bedrock key and sees only its last four characters', async () => {
    const panel = page.getByTestId('access-keys');
    await panel.getByRole('button', { name: /^Bedrock key/ }).click();
    await panel.getByLabel(/^Bedrock API key for ak_/).fill(BEDROCK_KEY);
    await panel.getByRole('button', { name: 'Register Bedrock key' }).click();
    await visible(panel.getByText('Bedrock key ending in 7xQ9 saved (encrypted).'));
    await visible(panel.getByRole('cell', { name: '…7xQ9', exact: true }));
    expect(await page.content()).not.toContain(BEDROCK_KEY);
    const keys = (await call('GET', `/admin/users/${developerId}/access-keys`)).body.items as { bedrock_key: { last4: string } | null }[];
    expect(keys.map((k) => k.bedrock_key?.last4)).toEqual(['7xQ9']);
  });

  it('sends a request through the proxy with that key (their Claude plan login) and sees it in their usage', async () => {
    // Anthropic answers a Plan login with the unified limit headers: the key's Plan window.
    fake.reply({
      kind: 'json',
      body: textMessage({ model: MODEL }),
      headers: unifiedLimitHeaders({ fiveHour: { utilization: 0.37, reset: fiveHourReset }, sevenDay: { utilization: 0.12, reset: sevenDayReset } }),
    });
    expect(await proxyStatus(keyForProxy)).toBe(200);
    await app.flushUsage();
    await page.getByRole('button', { name: 'Refresh usage' }).click();
    const requests = page.getByTestId('card-requests').locator('p').nth(1);
    await visible(requests.getByText('1', { exact: true }));
  });

  it("sees their own budget and their key's Plan window", async () => {
    await page.reload();
    await visible(heading(page, 'My keys & usage'));
    const budget = await visible(page.getByTestId('budget'));
    await visible(budget.getByText('$40.00', { exact: true }).first());
    const figures = await budget.locator('dl > div').evaluateAll((divs) => divs.map((d) => [d.querySelector('dt')?.textContent, d.querySelector('dd')?.textContent]));
    // Plan traffic never counts against the Bedrock budget: nothing spent.
    expect(Object.fromEntries(figures)).toEqual({ Budget: '$40.00', Spent: '$0.00', 'Reserved (running)': '$0.00', Remaining: '$40.00' });
    // A developer reads their budget; setting it is an admin's.
    expect(await budget.getByRole('button', { name: 'Save budget' }).count()).toBe(0);

    const prefix = accessKeyPrefix(keyForProxy);
    const key = await visible(page.getByTestId('plan-windows').getByRole('article', { name: `Plan window of ${prefix}` }));
    expect(await key.getByRole('progressbar', { name: `5-hour window of ${prefix}` }).getAttribute('aria-valuetext')).toMatch(/^37% used, resets /);
    expect(await key.getByRole('progressbar', { name: `7-day window of ${prefix}` }).getAttribute('aria-valuetext')).toMatch(/^12% used, resets /);
    expect(await key.getByTestId('plan-route').textContent()).toMatch(/Anthropic/i);
    // Only their own key is listed, and the switch rule stays an admin's.
    expect(await page.getByTestId('plan-windows').getByRole('article').count()).toBe(1);
    expect(await page.getByTestId('plan-settings').count()).toBe(0);
  });

  it('sees "not available to your role" and no admin data on admin pages', async () => {
    for (const path of ['/users', `/users/${otherId}`, '/requests', '/pricing', '/audit-log']) {
      await page.goto(`${app.url}${path}`);
      await visible(heading(page, 'Not available to your role'));
      const text = (await page.locator('main').textContent()) ?? '';
      expect({ path, other: text.includes(OTHER) }).toEqual({ path, other: false });
      // The API behind those pages answers 403 to this session.
      const api = path.startsWith('/users/') ? `/admin/users/${otherId}` : path === '/audit-log' ? '/admin/audit-log' : `/admin${path}`;
      expect({ api, status: (await context.request.get(`${app.url}${api}`)).status() }).toEqual({ api, status: 403 });
    }
  });

  it('passes axe-core on their page, light and dark, and fits a phone', async () => {
    await page.goto(`${app.url}/me`);
    await visible(page.getByTestId('access-keys').getByRole('cell', { name: '…7xQ9', exact: true }));
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect({ scheme, problems: await seriousAxeViolations(page) }).toEqual({ scheme, problems: [] });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 375, height: 812 });
    await visible(heading(page, 'My keys & usage'));
    expect(await horizontalOverflow(page)).toBe(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('rotates a key (the new one shown once, with its set-up) and revokes the old one, which stops working at once', async () => {
    const panel = page.getByTestId('access-keys');
    const oldPrefix = accessKeyPrefix(keyForProxy);
    const oldRow = panel.getByRole('row').filter({ hasText: `${oldPrefix}…` });
    await oldRow.getByRole('button', { name: `Rotate ${oldPrefix}` }).click();
    await panel.getByRole('group', { name: `Confirm: Rotate ${oldPrefix}` }).getByRole('button', { name: 'Yes, rotate' }).click();

    await visible(page.getByText('Key rotated: here is the new key'));
    const rotated = ((await page.getByTestId('new-key-value').textContent()) ?? '').trim();
    expect(rotated).toMatch(/^ak_/);
    expect(rotated).not.toBe(keyForProxy);
    expect(await page.getByTestId('setup-shell').textContent()).toBe(`export ANTHROPIC_BASE_URL=${app.url}/ak/${rotated}`);
    await page.getByRole('button', { name: 'I have copied it, hide the key' }).click();
    await page.getByTestId('new-key').waitFor({ state: 'detached' });
    // Once hidden, the page never shows it again.
    expect(await page.content()).not.toContain(rotated);
    await visible(oldRow.getByText('rotating', { exact: true }));
    const newRow = panel.getByRole('row').filter({ hasText: `${accessKeyPrefix(rotated)}…` });
    await visible(newRow.getByText('active', { exact: true }));
    // The Bedrock key moved to the new key with it.
    await visible(newRow.getByRole('cell', { name: '…7xQ9', exact: true }));
    expect(await proxyStatus(keyForProxy)).toBe(200); // the old key's grace period

    await oldRow.getByRole('button', { name: `Revoke ${oldPrefix}` }).click();
    await panel.getByRole('group', { name: `Confirm: Revoke ${oldPrefix}` }).getByRole('button', { name: 'Yes, revoke' }).click();
    await visible(oldRow.getByText('revoked', { exact: true }));
    expect(await oldRow.getByRole('button').count()).toBe(0);
    expect(await proxyStatus(keyForProxy)).toBe(401);
    expect(await proxyStatus(rotated)).toBe(200);
    const keys = (await call('GET', `/admin/users/${developerId}/access-keys`)).body.items as { key_prefix: string; status: string }[];
    expect(Object.fromEntries(keys.map((k) => [k.key_prefix, k.status]))).toEqual({ [oldPrefix]: 'revoked', [accessKeyPrefix(rotated)]: 'active' });
  });

  it('once deactivated, is told so on their page and can still log out', async () => {
    expect((await call('POST', `/admin/users/${developerId}/deactivate`)).status).toBe(200);
    await page.goto(`${app.url}/me`);
    await visible(heading(page, 'My keys & usage'));
    await visible(page.getByRole('alert').getByText(/your user is inactive/));
    expect(await page.getByTestId('access-keys').count()).toBe(0);
    await visible(page.getByRole('button', { name: 'Log out' }));
    expect((await call('POST', `/admin/users/${developerId}/reactivate`)).status).toBe(200);
  });

  it('logs out: back on the login page, and the old session cookie answers 401', async () => {
    await page.goto(`${app.url}/me`);
    await visible(page.getByTestId('access-keys'));
    const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)?.value;
    expect(cookie).toBeTruthy();
    const sessionWith = async (value: string) => {
      const res = await request(`${app.url}/admin/auth/session`, { headers: { cookie: `${SESSION_COOKIE}=${value}` } });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await sessionWith(cookie!)).toBe(200);

    await page.getByRole('button', { name: 'Log out' }).click();
    await visible(page.getByLabel('Password'));
    expect((await context.cookies()).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    // Not only forgotten by the browser: the token itself is revoked on the server.
    expect(await sessionWith(cookie!)).toBe(401);
  });
});

describe('the login page', () => {
  it('passes axe-core, light and dark, with the company button', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const login = await other.newPage();
      await login.goto(`${app.url}/login`);
      await visible(login.getByRole('link', { name: /^Sign in with / }));
      for (const scheme of ['light', 'dark'] as const) {
        await login.emulateMedia({ colorScheme: scheme });
        expect({ scheme, problems: await seriousAxeViolations(login) }).toEqual({ scheme, problems: [] });
      }
    } finally {
      await other.close();
    }
  });
});

describe('a refused company sign-in', () => {
  it('lands on the login page with the reason: a developer no user has the email of', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const refused = await other.newPage();
      await signInWithCompany(refused, 'nora');
      await visible(refused.getByText('there is no user with the email nora@example.com', { exact: false }));
      await visible(refused.getByRole('link', { name: /^Sign in with / }));
    } finally {
      await other.close();
    }
  });
});

describe('a viewer', () => {
  it('sees Users without "Add user" or key controls', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const viewer = await other.newPage();
      // From a link to Users: company sign-in opens the page asked for, as the password login does.
      await signInWithCompany(viewer, 'victor', '/login?next=%2Fusers');
      await visible(heading(viewer, 'Users'));
      expect(new URL(viewer.url()).pathname).toBe('/users');
      expect(await viewer.getByTestId('signed-in-as').textContent()).toContain('victor@example.com');
      expect(await viewer.getByTestId('signed-in-as').textContent()).toContain('viewer');
      await visible(viewer.getByRole('table').getByRole('link', { name: OTHER }));
      expect(await viewer.getByRole('button', { name: /add user|create user/i }).count()).toBe(0);
      await viewer.getByRole('table').getByRole('link', { name: OTHER }).click();
      await visible(heading(viewer, OTHER));
      await visible(viewer.getByTestId('budget'));
      for (const name of [/issue/i, /rotate/i, /revoke/i, /delete user/i, /deactivate/i, /save/i]) {
        expect({ name: String(name), count: await viewer.getByRole('button', { name }).count() }).toEqual({ name: String(name), count: 0 });
      }
    } finally {
      await other.close();
    }
  });

  it('raised no script error on any page', () => {
    expect(scriptErrors).toEqual([]);
  });
});
