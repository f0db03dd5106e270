import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { seriousAxeViolations } from './support/axe.ts';
import { launchChromium, screenshotPath, stopAfterFirstFailure, watchedPage } from './support/browser.ts';
import { assertDashboardBuilt, heading, horizontalOverflow, visible } from './support/dashboard.ts';

// What an operator sees when requests fail (issue #17): a user whose every request failed at
// Anthropic (500s and 429s, and no Bedrock key to fall back to) beside a healthy one. The Overview,
// the user's page and the request log show the failures; the log's filters and CSV downloads agree
// with what is on screen; the user is flagged; and every page passes axe-core in light and dark
// mode and fits a phone. One browser, one server and the same data for the whole file.

let fake: FakeAnthropic;
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const scriptErrors: string[] = [];

const MODEL = 'claude-sonnet-5-5';
const FAILING = 'Failing Fran';
const HEALTHY = 'Healthy Hal';
const BEDROCK_ONLY = 'Bedrock-only Bo';
// Priced for Anthropic below, with no Bedrock mapping anywhere: the banner must name it.
const UNMAPPED = 'claude-unmapped-9-9';
let failing: { rawKey: string; userId: string; accessKeyId: string };
let healthy: { rawKey: string; userId: string; accessKeyId: string };
// Fran's requests, in the order sent: Anthropic answers 500 three times, then 429 twice.
const FAILURES = [500, 500, 500, 429, 429] as const;
const HEALTHY_REQUESTS = 2;
const SERVER_ZONE = 'Asia/Seoul';
const BROWSER_ZONE = 'America/New_York';

async function send(rawKey: string): Promise<number> {
  const res = await request(`${app.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-api03-ops' },
    body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  await res.body.dump();
  return res.statusCode;
}

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchChromium();
  fake = await startFakeAnthropic();
  // The server's zone differs from the browser's (below): every page must show the server's.
  app = await startTestApp({ PLAN_API_URL: fake.url, TIMEZONE: SERVER_ZONE });
  // Both plan_first (the default); only Hal's key has a Bedrock key to fall back with.
  failing = await app.createKey(FAILING);
  healthy = await app.createKey(HEALTHY);
  await app.registerBedrockKey(healthy.accessKeyId);

  fake.reply(
    ...FAILURES.map((status) =>
      status === 429 ? errorReply(429, 'rate_limit_error', 'Number of request tokens has exceeded your rate limit.') : errorReply(500, 'api_error', 'Internal server error'),
    ),
  );
  // Without a Bedrock key nothing can take over: Anthropic's own answer reaches the client.
  for (const status of FAILURES) expect(await send(failing.rawKey)).toBe(status);
  for (let i = 0; i < HEALTHY_REQUESTS; i++) expect(await send(healthy.rawKey)).toBe(200);
  await app.flushUsage();

  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, timezoneId: BROWSER_ZONE });
  page = await watchedPage(context, scriptErrors);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.close();
  await fake?.close();
});

stopAfterFirstFailure();

/** The text of a stat card's figure (its big number). */
async function cardValue(testId: string): Promise<string> {
  return ((await (await visible(page.getByTestId(testId))).locator('p').nth(1).textContent()) ?? '').trim();
}

/** The "Errors by code" table of the page's Errors panel, as code → requests. */
async function errorsByCode(): Promise<Record<string, number>> {
  const table = await visible(page.getByTestId('errors').getByRole('table', { name: 'Errors by code' }));
  const rows = await table.locator('tbody tr').all();
  const out: Record<string, number> = {};
  for (const row of rows) {
    const cells = await row.locator('td').allTextContents();
    out[cells[0]!.trim()] = Number(cells[2]!.trim());
  }
  return out;
}

/** Status codes of the request log's rows, top to bottom. */
async function shownStatuses(): Promise<number[]> {
  const cells = await page.getByTestId('request-row').locator('td:nth-child(5) > span:first-child').allTextContents();
  return cells.map(Number);
}

/** Waits until the log shows `n` rows (after a filter, the old rows go first). */
async function logShows(n: number): Promise<void> {
  await visible(page.getByTestId('request-count').getByText(new RegExp(`^${n} requests? shown`)));
  expect(await page.getByTestId('request-row').count()).toBe(n);
}

/** A CSV link's file, fetched with the page's session cookie, parsed into records. */
async function downloadCsv(link: ReturnType<Page['getByRole']>): Promise<Record<string, string>[]> {
  const href = await (await visible(link)).getAttribute('href');
  expect(href).toMatch(/^\/admin\/.+\.csv/);
  const res = await context.request.get(`${app.url}${href}`);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toMatch(/^text\/csv/);
  return parse(await res.text(), { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
}

/** Every signed-in page, with what shows it has loaded the data a check is about (tables, charts, cards). */
function everyPage(): { path: string; title: string; loaded: () => Promise<unknown>[] }[] {
  return [
    {
      path: '/',
      title: 'Overview',
      loaded: () => [
        visible(page.getByTestId('errors').locator('svg .recharts-bar-rectangle').first()),
        visible(page.getByTestId('top-users-cost').locator('ol li a').first()),
        visible(page.getByTestId('readiness')),
      ],
    },
    { path: '/users', title: 'Users', loaded: () => [visible(page.getByRole('table').getByRole('link', { name: FAILING })), visible(page.getByTestId('no-bedrock-key').first())] },
    {
      path: `/users/${failing.userId}`,
      title: FAILING,
      loaded: () => [
        visible(page.getByTestId('errors').getByRole('table')),
        visible(page.getByTestId('access-keys').getByRole('table')),
        visible(page.getByTestId('plan-windows').getByText('No Plan reading yet')),
        visible(page.getByTestId('limits').getByRole('button', { name: 'Save limits' })),
      ],
    },
    { path: '/requests', title: 'Requests', loaded: () => [visible(page.getByTestId('request-row').first()), visible(page.getByRole('region', { name: 'Filters' }))] },
    { path: '/pricing', title: 'Pricing', loaded: () => [visible(page.getByRole('table').getByRole('cell', { name: MODEL, exact: true }).first())] },
    { path: '/model-mappings', title: 'Model mappings', loaded: () => [visible(page.getByRole('region', { name: 'Shipped defaults' }).getByRole('table'))] },
    { path: '/audit-log', title: 'Audit log', loaded: () => [visible(page.getByRole('region', { name: 'Entries' }).getByRole('table'))] },
    { path: '/api-tokens', title: 'API tokens', loaded: () => [visible(page.getByTestId('api-tokens').getByText('No tokens yet'))] },
  ];
}

/** Opens a page by its address and waits until its data is on screen. */
async function openLoaded(path: string): Promise<void> {
  const target = everyPage().find((p) => p.path === path)!;
  await page.goto(`${app.url}${path}`);
  await visible(heading(page, target.title));
  await Promise.all(target.loaded());
}

describe('failures on the dashboard', () => {
  it('shows the failures on the Overview: count, rate, codes, and the impossible fallbacks', async () => {
    await page.goto(`${app.url}/`);
    await visible(heading(page, 'Sign in'));
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await visible(heading(page, 'Overview'));

    const all = FAILURES.length + HEALTHY_REQUESTS;
    await visible(page.getByTestId('card-requests').getByText(String(all), { exact: true }));
    expect(await cardValue('card-errors')).toBe(String(FAILURES.length));
    expect(await cardValue('card-error-rate')).toBe(`${Math.round((FAILURES.length / all) * 100)}%`);
    // No failed request counts as a fallback served; all five wanted one that could not happen.
    expect(await cardValue('card-fallback-rate')).toBe('0%');
    expect(await cardValue('card-fallback-problems')).toBe(`0 / ${FAILURES.length}`);
    expect(await page.getByTestId('card-fallback-problems').textContent()).toContain(`No Bedrock key ${FAILURES.length}`);
    expect(await errorsByCode()).toEqual({ api_error: 3, rate_limit_error: 2 });
    await visible(page.getByTestId('errors').locator('svg .recharts-bar-rectangle').first());

    // The readiness banner names the user who cannot fall back, and not the one who can.
    const banner = await visible(page.getByTestId('readiness'));
    await visible(banner.getByRole('link', { name: FAILING }));
    expect(await banner.getByRole('link', { name: HEALTHY }).count()).toBe(0);
    await page.screenshot({ path: screenshotPath('overview-errors'), fullPage: true });
  });

  it('names in the banner, each in its own words, a priced model without a Bedrock mapping and a bedrock_only user without a Bedrock key', async () => {
    const admin = { authorization: `Bearer ${await app.adminToken()}`, 'content-type': 'application/json' };
    const price = { input_usd_per_mtok: '1', output_usd_per_mtok: '5', cache_write_5m_usd_per_mtok: '1.25', cache_write_1h_usd_per_mtok: '2', cache_read_usd_per_mtok: '0.1' };
    const priced = await request(`${app.url}/admin/pricing`, { method: 'POST', headers: admin, body: JSON.stringify({ provider: 'anthropic', model: UNMAPPED, ...price }) });
    expect(priced.statusCode, await priced.body.text()).toBe(201);
    const bo = await app.createKey(BEDROCK_ONLY);
    const routed = await request(`${app.url}/admin/users/${bo.userId}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ routing_strategy: 'bedrock_only' }) });
    expect(routed.statusCode, await routed.body.text()).toBe(200);

    await page.reload();
    await visible(heading(page, 'Overview'));
    const models = await visible(page.getByTestId('readiness').getByTestId('readiness-models'));
    expect(await models.textContent()).toMatch(new RegExp(`no Bedrock mapping: .*\\b${UNMAPPED}\\b`));
    // Plan first without a Bedrock key: Anthropic's error reaches them. Bedrock only: refused.
    const planFirst = await visible(page.getByTestId('readiness-plan-first'));
    expect(await planFirst.textContent()).toMatch(/^A user routed Plan first has keys without a Bedrock key: when Anthropic refuses, they get Anthropic's error\./);
    expect(await planFirst.getByRole('link').allTextContents()).toEqual([FAILING]);
    const bedrockOnly = await visible(page.getByTestId('readiness-bedrock-only'));
    expect(await bedrockOnly.textContent()).toMatch(/^A user routed Bedrock only has keys without a Bedrock key: their requests are refused/);
    expect(await bedrockOnly.getByRole('link').allTextContents()).toEqual([BEDROCK_ONLY]);
    await page.screenshot({ path: screenshotPath('overview-readiness'), fullPage: true });
  });

  it("shows them on the user's page: 5 errors, 100 %, by code, and a breaker that says why nothing took over", async () => {
    await page.goto(`${app.url}/users/${failing.userId}`);
    await visible(heading(page, FAILING));
    await visible(page.getByTestId('no-bedrock-key'));
    // The user page's usage is this month's: the same five requests.
    await visible(page.getByTestId('card-requests').getByText(String(FAILURES.length), { exact: true }));
    expect(await cardValue('card-errors')).toBe(String(FAILURES.length));
    expect(await page.getByTestId('card-errors').textContent()).toContain(`${FAILURES.length} errors of ${FAILURES.length} requests`);
    expect(await cardValue('card-error-rate')).toBe('100%');
    expect(await errorsByCode()).toEqual({ api_error: 3, rate_limit_error: 2 });
    await visible(page.getByTestId('access-keys').getByText('No Bedrock key', { exact: true }));
    await page.screenshot({ path: screenshotPath('user-errors'), fullPage: true });

    // A code links to its requests in the log: this user's, in this period.
    await page.getByTestId('errors').getByRole('link', { name: 'rate_limit_error' }).click();
    await visible(heading(page, 'Requests'));
    const search = new URL(page.url()).searchParams;
    expect([search.get('user_id'), search.get('code')]).toEqual([failing.userId, 'rate_limit_error']);
    expect(search.get('from')).toBeTruthy();
    await logShows(2);
    expect(await shownStatuses()).toEqual([429, 429]);
    await page.goBack();
    await visible(heading(page, FAILING));
  });

  it("links from the user's page to the request log filtered to that user, which lists the failures", async () => {
    await page.getByRole('link', { name: `Request log of ${FAILING}` }).click();
    await visible(heading(page, 'Requests'));
    expect(new URL(page.url()).searchParams.get('user_id')).toBe(failing.userId);
    await logShows(FAILURES.length);
    // Newest first: the two 429s, then the three 500s.
    expect(await shownStatuses()).toEqual([...FAILURES].reverse());
    const rows = page.getByTestId('request-row');
    for (const row of await rows.all()) {
      const text = (await row.textContent()) ?? '';
      expect(text).toContain(FAILING);
      expect(text).toContain('fallback impossible: No Bedrock key');
      expect(text).toContain('Upstream error');
    }
    await visible(rows.first().getByText('rate_limit_error', { exact: true }));
  });

  it('narrows the log by status class, code and user, keeping the filters in the address', async () => {
    await page.goto(`${app.url}/requests`);
    await visible(heading(page, 'Requests'));
    await logShows(FAILURES.length + HEALTHY_REQUESTS);

    const filters = page.getByRole('region', { name: 'Filters' });
    await filters.getByLabel('Status').selectOption('5xx');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await logShows(3);
    expect(await shownStatuses()).toEqual([500, 500, 500]);
    expect(new URL(page.url()).search).toBe('?status_class=5xx');

    // The address alone reproduces the view.
    await page.reload();
    await logShows(3);
    expect(await page.getByRole('region', { name: 'Filters' }).getByLabel('Status').inputValue()).toBe('5xx');

    await page.getByRole('region', { name: 'Filters' }).getByLabel('Status').selectOption('');
    await page.getByRole('region', { name: 'Filters' }).getByLabel('Error code').fill('rate_limit_error');
    await page.getByRole('region', { name: 'Filters' }).getByRole('button', { name: 'Apply filters' }).click();
    await logShows(2);
    expect(await shownStatuses()).toEqual([429, 429]);

    await page.getByRole('region', { name: 'Filters' }).getByRole('link', { name: 'Clear' }).click();
    await logShows(FAILURES.length + HEALTHY_REQUESTS);
    await page.getByRole('region', { name: 'Filters' }).getByLabel('User').selectOption({ label: HEALTHY });
    await page.getByRole('region', { name: 'Filters' }).getByRole('button', { name: 'Apply filters' }).click();
    await logShows(HEALTHY_REQUESTS);
    expect(await shownStatuses()).toEqual([200, 200]);

    await page.getByRole('region', { name: 'Filters' }).getByLabel('User').selectOption('');
    await page.getByRole('region', { name: 'Filters' }).getByLabel('Fallback').selectOption({ label: 'Fallback impossible: No Bedrock key' });
    await page.getByRole('region', { name: 'Filters' }).getByRole('button', { name: 'Apply filters' }).click();
    await logShows(FAILURES.length);
    expect(new URL(page.url()).searchParams.get('fallback_unavailable')).toBe('no_bedrock_key');
    await page.screenshot({ path: screenshotPath('requests'), fullPage: true });
  });

  it("downloads the log's CSV with the same filters: the rows on screen", async () => {
    await page.goto(`${app.url}/requests?user_id=${failing.userId}&status_class=4xx`);
    await logShows(2);
    const records = await downloadCsv(page.getByTestId('request-log').getByRole('link', { name: /Download CSV/ }));
    expect(records.map((r) => r.request_id)).toEqual(await page.getByTestId('request-id').allTextContents());
    expect(records.map((r) => Number(r.status_code))).toEqual(await shownStatuses());
    for (const r of records) {
      expect(r).toMatchObject({ user_id: failing.userId, user_name: FAILING, status_code: '429', outcome: 'upstream_error', fallback_unavailable: 'no_bedrock_key' });
    }

    // The browser's own download of the link gives the same file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('request-log').getByRole('link', { name: /Download CSV/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
  });

  it("downloads the Overview's usage tables as CSV: the figures on screen", async () => {
    await page.goto(`${app.url}/`);
    await visible(heading(page, 'Overview'));
    const all = FAILURES.length + HEALTHY_REQUESTS;
    await visible(page.getByTestId('card-requests').getByText(String(all), { exact: true }));

    const buckets = await downloadCsv(page.getByTestId('chart-tokens').getByRole('link', { name: /Download CSV/ }));
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.reduce((n, b) => n + Number(b.requests), 0)).toBe(all);

    const models = await downloadCsv(page.getByTestId('chart-cost-by-model').getByRole('link', { name: /Download CSV/ }));
    const shownModels = await page.getByTestId('chart-cost-by-model').locator('tbody tr td:first-child').allTextContents();
    expect(models.map((m) => m.model)).toEqual(shownModels);
    expect(models.reduce((n, m) => n + Number(m.requests), 0)).toBe(all);

    const top = await downloadCsv(page.getByTestId('top-users-tokens').getByRole('link', { name: /Download CSV/ }));
    await visible(page.getByTestId('top-users-tokens').locator('ol li a').first());
    const shownTop = await page.getByTestId('top-users-tokens').locator('ol li a').allTextContents();
    expect(top.map((t, i) => `${i + 1}. ${t.name}`)).toEqual(shownTop);
  });

  it('flags the plan_first user without a Bedrock key on Users, with their month and last request', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await visible(heading(page, 'Users'));
    const fran = await visible(page.getByRole('table').getByRole('row').filter({ hasText: FAILING }));
    const hal = await visible(page.getByRole('table').getByRole('row').filter({ hasText: HEALTHY }));
    await visible(fran.getByText('cannot fall back: no Bedrock key'));
    expect(await hal.getByTestId('no-bedrock-key').count()).toBe(0);
    // Routed to Bedrock only without a Bedrock key, nothing falls back: every request is refused.
    const bo = await visible(page.getByRole('table').getByRole('row').filter({ hasText: BEDROCK_ONLY }));
    expect(await bo.getByTestId('no-bedrock-key').textContent()).toBe('⚠ refused: bedrock_only without a Bedrock key');
    const cells = await fran.locator('td').allTextContents();
    expect(cells[3]).toBe(String(FAILURES.length));
    expect(cells[5]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  });

  it("edits the user's request limits on their page", async () => {
    await page.goto(`${app.url}/users/${failing.userId}`);
    const panel = await visible(page.getByTestId('limits'));
    await panel.getByLabel('Requests per minute').fill('0');
    await panel.getByRole('button', { name: 'Save limits' }).click();
    await visible(panel.getByRole('alert').filter({ hasText: 'Requests per minute: a whole number' }));

    await panel.getByLabel('Requests per minute').fill('30');
    await panel.getByLabel('Requests in flight').fill('');
    await panel.getByRole('button', { name: 'Save limits' }).click();
    await visible(panel.getByRole('status').filter({ hasText: 'Limits saved' }));
    const saved = await context.request.get(`${app.url}/admin/users/${failing.userId}/limits`);
    expect(await saved.json()).toMatchObject({ max_requests_per_minute: 30, max_in_flight: null });
    // Loaded again, the form starts from what was saved (it is drawn only once the limits are in).
    await page.reload();
    expect(await (await visible(page.getByTestId('limits').getByLabel('Requests per minute'))).inputValue()).toBe('30');
  });

  it("shows the audit log in the server's time zone, not the browser's", async () => {
    expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe(BROWSER_ZONE);
    const entry = (await (await context.request.get(`${app.url}/admin/audit-log?action=user.limits`)).json()) as { items: { occurred_at: string }[] };
    const at = new Date(entry.items[0]!.occurred_at);
    const inZone = (timeZone: string) => new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(at);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await visible(heading(page, 'Audit log'));
    await visible(page.getByText(`server's time zone (${SERVER_ZONE})`));
    const row = await visible(page.getByRole('region', { name: 'Entries' }).getByRole('row').filter({ hasText: 'user.limits' }));
    expect(await row.locator('td').first().textContent()).toBe(inZone(SERVER_ZONE));
    expect(inZone(SERVER_ZONE)).not.toBe(inZone(BROWSER_ZONE));
  });

  it('narrows the price list by a model search', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pricing' }).click();
    await visible(heading(page, 'Pricing'));
    const rows = page.getByRole('region', { name: 'Prices' }).locator('tbody tr');
    // Other models are listed before the search, and gone after it.
    await rows.filter({ hasNotText: 'sonnet-5-5' }).first().waitFor();
    await page.getByLabel('Search models').fill('SONNET-5-5');
    await rows.filter({ hasNotText: 'sonnet-5-5' }).first().waitFor({ state: 'detached' });
    const models = await page.getByRole('region', { name: 'Prices' }).locator('tbody tr td:first-child').allTextContents();
    expect(models.length).toBeGreaterThan(0);
    for (const model of models) expect(model).toContain('sonnet-5-5');
    await page.getByLabel('Search models').fill('no-such-model');
    await visible(page.getByText('No prices match'));
  });

  it('has no serious or critical accessibility violation on any page, in light and dark mode', async () => {
    const found: Record<string, unknown> = {};
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const { path, title } of everyPage()) {
        await openLoaded(path);
        const problems = await seriousAxeViolations(page);
        if (problems.length) found[`${scheme} ${path}`] = problems;
        if (scheme === 'dark') await page.screenshot({ path: screenshotPath(`dark-${title.toLowerCase().replaceAll(' ', '-')}`), fullPage: true });
      }
    }
    // The login page, signed out (a context of its own, so this session stays).
    const guest = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const login = await guest.newPage();
      for (const scheme of ['light', 'dark'] as const) {
        await login.emulateMedia({ colorScheme: scheme });
        await login.goto(`${app.url}/login`);
        await visible(heading(login, 'Sign in'));
        const problems = await seriousAxeViolations(login);
        if (problems.length) found[`${scheme} /login`] = problems;
      }
    } finally {
      await guest.close();
      await page.emulateMedia({ colorScheme: 'light' });
    }
    expect(found).toEqual({});
  });

  it('fits a phone (375 px) on every page without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      for (const { path } of everyPage()) {
        await openLoaded(path);
        expect({ path, overflow: await horizontalOverflow(page) }).toEqual({ path, overflow: 0 });
        if (path === '/requests') await page.screenshot({ path: screenshotPath('requests-phone'), fullPage: true });
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('pages the log: older requests load under the newest, until there are none', async () => {
    // A page holds 50 rows: 50 more of Hal's requests push his first two to a second page.
    for (let i = 0; i < 50; i++) expect(await send(healthy.rawKey)).toBe(200);
    await app.flushUsage();
    await page.goto(`${app.url}/requests?user_id=${healthy.userId}`);
    await logShows(50);
    await page.getByRole('button', { name: 'Load older requests' }).click();
    await logShows(52);
    expect(await page.getByRole('button', { name: 'Load older requests' }).count()).toBe(0);
    // No row twice and none missed: the same rows, in the same order, as the CSV of the same filter.
    const shown = await page.getByTestId('request-id').allTextContents();
    const records = await downloadCsv(page.getByTestId('request-log').getByRole('link', { name: /Download CSV/ }));
    expect(shown).toEqual(records.map((r) => r.request_id));
    expect(new Set(shown).size).toBe(52);
  });

  it('raised no script error on any page along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
