import type { Page } from 'playwright-core';
import { visible } from './dashboard.ts';

/**
 * Clicks "Sign in with …" on the dashboard's login page (`loginPath`, e.g. with `?next=`) and walks
 * the test identity provider's (oidc-provider's) login and consent pages as `account`, until the
 * browser is back on the dashboard.
 */
export async function signInWithCompany(p: Page, site: { appUrl: string; issuer: string }, account: string, loginPath = '/login'): Promise<void> {
  await p.goto(`${site.appUrl}${loginPath}`);
  const button = await visible(p.getByRole('link', { name: `Sign in with ${new URL(site.issuer).host}` }));
  await button.click();
  await visible(p.locator('input[name="login"]'));
  await p.locator('input[name="login"]').fill(account);
  // The development login page asks for a password too (any will do).
  const password = p.locator('input[name="password"]');
  if (await password.count()) await password.fill('any password');
  await p.locator('button[type="submit"]').click();
  // Consent, then back to the dashboard.
  await p.waitForURL((url) => url.origin === site.appUrl || url.pathname.startsWith('/interaction/'));
  if (new URL(p.url()).pathname.startsWith('/interaction/')) await p.locator('button[type="submit"]').click();
  await p.waitForURL((url) => url.origin === site.appUrl && !url.pathname.startsWith('/admin/'));
}
