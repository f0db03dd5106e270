import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.ts';
import { assertDashboardBuilt } from './support/dashboard.ts';

// What the browser tests need is checked, never assumed: without it they fail and say how to fix it.
describe('browser test preconditions', () => {
  it('a missing Chromium fails with the command that installs it', async () => {
    await expect(launchChromium(path.join(os.tmpdir(), 'no-such-dir', 'chromium'))).rejects.toThrow(/apt-get install -y chromium/);
  });

  it('a dashboard that was not built fails with the command that builds it', () => {
    expect(() => assertDashboardBuilt(path.join(os.tmpdir(), 'no-such-dashboard'))).toThrow(/npm run build -w frontend/);
  });
});
