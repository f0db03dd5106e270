import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

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
