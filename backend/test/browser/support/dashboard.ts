import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { DEFAULT_DASHBOARD_DIR } from '../../../src/dashboard/plugin.ts';

/** Fails with the command to run when the dashboard has not been built into the backend's static folder. */
export function assertDashboardBuilt(dir = DEFAULT_DASHBOARD_DIR): void {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) {
    throw new Error(`The dashboard is not built (${index} is missing): run \`npm run build -w frontend\` (root \`npm test\` builds it first)`);
  }
}

/** Waits until the locator is visible and returns it (so a test reads as the steps a person takes). */
export async function visible(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible' });
  return locator;
}

/** The page's one h1, once it shows `name`. */
export function heading(page: Page, name: string | RegExp): Locator {
  return page.getByRole('heading', { level: 1, name });
}

/** Whether the element has keyboard focus. */
export function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === el.ownerDocument.activeElement);
}

/** How far the page is wider than its viewport (0 when nothing overflows sideways). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
}
