import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { beforeEach } from 'vitest';

/** Debian's Chromium: playwright-core never downloads a browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The repository root (this file is backend/test/browser/support/browser.ts). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

// Headless in a container: no sandbox (runs as root), no GPU, /dev/shm is small, and no
// background traffic to Google so that only 127.0.0.1 is ever reached.
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launches headless Chromium. A missing browser is a failure, not a skip: CI must install it.
 */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`The dashboard's browser tests need Chromium at ${executablePath}: apt-get install -y chromium fonts-liberation`);
  }
  return chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
}

/** Where a page's screenshot goes: test-artifacts/dashboard/<page>.png at the repository root. */
export function screenshotPath(page: string): string {
  const dir = path.join(REPO_ROOT, 'test-artifacts', 'dashboard');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${page}.png`);
}

/**
 * A new page of `context` that writes its uncaught exceptions and console errors into `errors`,
 * other than refused requests (a wrong password or a 403 the page expects shows as a failed resource).
 */
export async function watchedPage(context: BrowserContext, errors: string[]): Promise<Page> {
  context.setDefaultTimeout(15_000); // seconds, not Playwright's 30: every wait is for something on screen
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
  });
  return page;
}

/**
 * Each step of a file starts where the previous one left the page: after a failure, the rest
 * would only fail for the same reason, so they say so at once instead of waiting out their timeouts.
 */
export function stopAfterFirstFailure(): void {
  let brokenAt: string | undefined;
  beforeEach(({ task, onTestFailed }) => {
    if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
    onTestFailed(() => {
      brokenAt ??= task.name;
    });
  });
}
