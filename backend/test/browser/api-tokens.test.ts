import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.ts';
import { signInWithCompany } from './support/company-sign-in.ts';
import { seriousAxeViolations } from './support/axe.ts';
import { launchChromium, screenshotPath, stopAfterFirstFailure, watchedPage } from './support/browser.ts';
import { assertDashboardBuilt, heading, horizontalOverflow, visible } from './support/dashboard.ts';

// The API tokens page: an admin creates an automation token, sees it once with where it goes, a
// script uses it against the admin API (fetch), the list shows its last use, and once revoked in
// the dashboard the API refuses it. A viewer (company sign-in, oidc-provider on 127.0.0.1) has no
// such page. One browser, one identity provider and one server for the whole file.

let idp: TestIdentityProvider;
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const scriptErrors: string[] = [];

const NAME = 'ci-nightly';
let token = '';

beforeAll(async () => {
  assertDashboardBuilt();
  idp = await startIdentityProvider();
  app = await startTestApp({ OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_VIEWER_VALUES: 'auditors' });
  idp.serve({ redirectUris: [`${app.url}/admin/auth/oidc/callback`], people: { victor: { email: 'victor@example.com', groups: ['auditors'] } } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await watchedPage(context, scriptErrors);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.close();
  await idp?.close();
});

stopAfterFirstFailure();

/** A call to the admin API as a script makes it: no cookie, the token as a bearer. */
async function asScript(bearer: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The table row of the token named `name` (the newest first when names repeat). */
function row(name: string) {
  return page.getByTestId('api-tokens').getByTestId('api-token-row').filter({ hasText: name }).first();
}

/** The row's cell under the column `header`, as text. */
async function cell(name: string, header: string): Promise<string> {
  const headers = (await page.getByTestId('api-tokens').locator('thead th').allTextContents()).map((h) => h.trim());
  return ((await row(name).locator('td').nth(headers.indexOf(header)).textContent()) ?? '').trim();
}

async function axeBothSchemes(): Promise<Record<string, unknown>> {
  const found: Record<string, unknown> = {};
  try {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const problems = await seriousAxeViolations(page);
      if (problems.length) found[scheme] = problems;
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  return found;
}

describe('API tokens in the dashboard', () => {
  it('are an admin page in the navigation, empty at first', async () => {
    await page.goto(`${app.url}/login`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await visible(heading(page, 'Overview'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
    await visible(heading(page, 'API tokens'));
    expect(await page.title()).toMatch(/^API tokens/);
    await visible(page.getByText('No tokens yet'));
  });

  it('creates a token and shows it once, with the CLI and curl lines for this server', async () => {
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await page.getByLabel('Role').selectOption('admin');
    await page.getByLabel('Expires in (days)').fill('7');
    await page.getByRole('button', { name: 'Create token' }).click();

    const reveal = await visible(page.getByTestId('new-token'));
    token = ((await reveal.getByTestId('new-token-value').textContent()) ?? '').trim();
    expect(token).toMatch(/^ccp_[A-Za-z0-9_-]{43}$/);
    expect(((await reveal.getByTestId('token-cli').textContent()) ?? '').trim()).toBe(`export CCPROXY_URL=${app.url}\nexport CCPROXY_TOKEN=${token}`);
    expect(((await reveal.getByTestId('token-curl').textContent()) ?? '').trim()).toBe(`curl -H 'Authorization: Bearer ${token}' ${app.url}/admin/users`);

    // Listed by name and prefix only, active, never used, expiring in 7 days.
    await visible(row(NAME));
    expect(await cell(NAME, 'Role')).toBe('admin');
    expect(await cell(NAME, 'Status')).toBe('active');
    expect(await cell(NAME, 'Last used')).toBe('never');
    expect(await cell(NAME, 'Name')).toBe(`${NAME}${token.slice(0, 12)}…`);
    const listed = (await (await context.request.get(`${app.url}/admin/tokens`)).json()) as { items: { name: string; expires_at: string }[] };
    const days = (Date.parse(listed.items.find((t) => t.name === NAME)!.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
  });

  it('passes axe-core in light and dark mode and fits a phone, with the token shown', async () => {
    expect(await axeBothSchemes()).toEqual({});
    await page.screenshot({ path: screenshotPath('api-tokens'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: screenshotPath('api-tokens-phone'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('hides the token for good: not on the page, not after a reload', async () => {
    await page.getByRole('button', { name: 'I have copied it, hide the token' }).click();
    await page.getByTestId('new-token').waitFor({ state: 'detached' });
    expect(await page.locator('body').textContent()).not.toContain(token);
    await page.reload();
    await visible(row(NAME));
    expect(await page.locator('body').textContent()).not.toContain(token.slice(12));
  });

  it('works for a script (fetch with the bearer token), and the list then shows its last use', async () => {
    const users = await asScript(token, 'GET', '/admin/users');
    expect(users.status).toBe(200);
    const made = await asScript(token, 'POST', '/admin/users', { name: 'made-by-ci-nightly' });
    expect(made.status).toBe(201);
    await page.reload();
    await visible(row(NAME));
    expect(await cell(NAME, 'Last used')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  });

  it('revokes it after asking, and the API refuses it at once', async () => {
    await row(NAME).getByRole('button', { name: `Revoke ${NAME}` }).click();
    const confirm = await visible(page.getByRole('group', { name: `Confirm: Revoke ${NAME}` }));
    expect(await confirm.textContent()).toContain('cannot be undone');
    await confirm.getByRole('button', { name: 'Yes, revoke' }).click();
    await expect.poll(() => cell(NAME, 'Status')).toBe('revoked');
    expect(await cell(NAME, 'Revoked')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(await row(NAME).getByRole('button', { name: /Revoke/ }).count()).toBe(0);
    const refused = await asScript(token, 'GET', '/admin/users');
    expect(refused.status).toBe(401);
  });

  it('gives a scim token the SCIM base URL instead of the CLI lines', async () => {
    await page.getByLabel('Name', { exact: true }).fill('okta-provisioning');
    await page.getByLabel('Role').selectOption('scim');
    await page.getByRole('button', { name: 'Create token' }).click();
    const reveal = await visible(page.getByTestId('new-token'));
    const scimToken = ((await reveal.getByTestId('new-token-value').textContent()) ?? '').trim();
    expect(((await reveal.getByTestId('token-scim-url').textContent()) ?? '').trim()).toBe(`${app.url}/scim/v2`);
    expect(await reveal.getByTestId('token-cli').count()).toBe(0);
    // The identity provider's call, as it would make it.
    expect((await asScript(scimToken, 'GET', '/scim/v2/Users')).status).toBe(200);
    expect((await asScript(scimToken, 'GET', '/admin/users')).status).toBe(401); // a scim token opens nothing of /admin
    await reveal.getByRole('button', { name: 'I have copied it, hide the token' }).click();
  });

  it('is not offered to a viewer, and says so at its address', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const viewer = await watchedPage(other, scriptErrors);
      await signInWithCompany(viewer, { appUrl: app.url, issuer: idp.issuer }, 'victor', '/login?next=%2Fapi-tokens');
      await visible(heading(viewer, 'Not available to your role'));
      expect(new URL(viewer.url()).pathname).toBe('/api-tokens');
      expect(await viewer.getByTestId('signed-in-as').textContent()).toContain('viewer');
      const nav = await viewer.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
      expect(nav).toContain('Users');
      expect(nav).not.toContain('API tokens');
    } finally {
      await other.close();
    }
  });

  it('raised no script error on any page along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
