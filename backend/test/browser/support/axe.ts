import axe from 'axe-core';
import type { Page } from 'playwright-core';

/** One accessibility problem axe-core found, with the elements it found it on. */
export interface AxeProblem {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2 A and AA rules, colour contrast included) on the page as it is now and
 * returns its `serious` and `critical` violations.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeProblem[]> {
  // Evaluated rather than added as a <script>: the dashboard's Content-Security-Policy refuses inline scripts, as it should.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axe.source);
  // The whole document (axe's default context).
  const results = await page.evaluate(() => (globalThis as unknown as { axe: typeof axe }).axe.run({ resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}
