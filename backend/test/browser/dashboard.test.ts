import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, screenshotPath } from './support/browser.ts';
import { assertDashboardBuilt, heading, isFocused, visible } from './support/dashboard.ts';

// One admin's session through the dashboard, in order: each step starts where the last one left
// the page, as a person would use it. One browser and one server for the whole file.

let fake: FakeAnthropic;
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchChromium();
  fake = await startFakeAnthropic();
  app = await startTestApp({ PLAN_API_URL: fake.url });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.close();
  await fake?.close();
});

/** A full-page screenshot at 1280 px, kept as a test artifact. */
async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name), fullPage: true });
}

describe('dashboard', () => {
  it('opens on the login page, reachable by keyboard, and shows an error for bad credentials', async () => {
    await page.goto(`${app.url}/`);
    await visible(heading(page, 'Sign in'));
    expect(new URL(page.url()).pathname).toBe('/login');
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
  });
});
