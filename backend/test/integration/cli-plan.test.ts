import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUnifiedLimits } from '../../src/anthropic/unified-limits.ts';
import { unifiedLimitHeaders } from '../fakes/anthropic.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { usageEvent } from '../support/usage-events.ts';

// `ccproxy plan list|set|report` and the Claude Code settings `keys issue` prints, as a client of
// the admin API. Plan readings are seeded straight into the task's memory, as a Plan answer would.

type Key = { userId: string; accessKeyId: string };

let proxy: TestApp;
let configDir: string;
let admin: Record<string, string>;
const keys: Record<'pia' | 'quinn' | 'ravi' | 'uma', Key> = {} as Record<'pia' | 'quinn' | 'ravi' | 'uma', Key>;

const cli = (args: string[], stdin = '') => runCli({ url: proxy.url, configDir }, args, stdin);
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** The wall clock of an instant in TIMEZONE (Asia/Seoul here), after an optional weekday. */
const at = (unixSeconds: number) =>
  `(\\w{3} )?${new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(unixSeconds * 1000)}`;

function observe(key: Key, headers: Parameters<typeof readUnifiedLimits>[0]): void {
  const limits = readUnifiedLimits(headers);
  if (!limits) throw new Error('no unified limits in the headers');
  proxy.app.planWindows.observe(key, limits);
}

/** The line of the table that starts with this user's name. */
const row = (stdout: string, user: string) => stdout.split('\n').find((l) => l.startsWith(`${user} `)) ?? '';

beforeAll(async () => {
  proxy = await startTestApp({ TIMEZONE: 'Asia/Seoul' });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-cli-plan-'));
  admin = { authorization: `Bearer ${await proxy.adminToken()}` };
  expect((await cli(['login'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
  for (const name of ['pia', 'quinn', 'ravi', 'uma'] as const) {
    keys[name] = await proxy.createKey(name);
    // A Bedrock key each, so a park or an open breaker really sends them to Bedrock (see "without a Bedrock key" below).
    await proxy.registerBedrockKey(keys[name].accessKeyId);
  }
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(configDir, { recursive: true, force: true });
});

describe('ccproxy plan list', () => {
  const reset5h = nowSeconds() + 2 * 3600;
  const resetOpus = nowSeconds() + 86_400;

  beforeAll(() => {
    observe(keys.pia, unifiedLimitHeaders({ fiveHour: { utilization: 0.42, reset: reset5h }, sevenDay: { utilization: 0.63, reset: nowSeconds() + 3 * 86_400 } }));
    observe(keys.quinn, unifiedLimitHeaders({ status: 'allowed_warning', fiveHour: { utilization: 0.99, reset: reset5h, surpassedThreshold: 0.9 }, sevenDay: { utilization: 0.5, reset: resetOpus } }));
    observe(
      keys.ravi,
      unifiedLimitHeaders({ status: 'rejected', claim: 'seven_day_opus', reset: resetOpus, fiveHour: { utilization: 0.3, reset: reset5h }, sevenDayOpus: { utilization: 1, reset: resetOpus } }),
    );
    // No Plan reading, but Anthropic keeps failing for this key.
    for (let i = 0; i < 3; i++) proxy.app.breakers.failure(keys.uma.accessKeyId, 'upstream_529');
  });

  it('shows each key: use and reset, status and warning, where requests go now, threshold and its source, overage, breaker', async () => {
    const res = await cli(['plan', 'list']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^user\s+key\s+5h\s+7d\s+status\s+now\s+threshold\s+overage\s+breaker$/);
    expect(row(res.stdout, 'pia')).toMatch(new RegExp(`^pia\\s+ak_\\S+\\s+42% \\(resets ${at(reset5h)}\\)\\s+63%\\s+allowed\\s+Plan\\s+98% \\(server\\)\\s+move\\s+closed$`));
    expect(row(res.stdout, 'quinn')).toMatch(
      new RegExp(`^quinn\\s+ak_\\S+\\s+99% \\(resets ${at(reset5h)}\\)\\s+50%\\s+allowed_warning \\(warning\\)\\s+Bedrock: plan_threshold until ${at(reset5h)}\\s+98% \\(server\\)`),
    );
    // The Opus weekly limit moves only Opus.
    expect(row(res.stdout, 'ravi')).toMatch(new RegExp(`\\s+rejected\\s+opus → Bedrock: usage_limit until ${at(resetOpus)}; sonnet, other → Plan\\s+98% \\(server\\)`));
    expect(row(res.stdout, 'uma')).toMatch(/^uma\s+ak_\S+\s+no reading\s+Bedrock: circuit_open until \S+( \S+)?\s+98% \(server\)\s+move\s+open \(upstream_529\)$/);
    expect(lines.at(-1)).toBe('4 key(s); times in Asia/Seoul; server threshold 98%');
  });

  it('narrows to one user by name, and prints the API answer with --json', async () => {
    const one = await cli(['plan', 'list', '--user', 'quinn']);
    expect(one.stdout.trim().split('\n')).toHaveLength(3);
    expect(one.stdout).toMatch(/\n1 key\(s\); times in Asia\/Seoul; server threshold 98%\n$/);
    const json = JSON.parse((await cli(['plan', 'list', '--user', keys.ravi.userId, '--json'])).stdout) as { items: { user_name: string; parked: Record<string, unknown> }[]; server_threshold: number };
    expect(json.server_threshold).toBe(0.98);
    expect(json.items).toHaveLength(1);
    expect(json.items[0]).toMatchObject({ user_name: 'ravi', parked: { opus: { reason: 'usage_limit', window: 'seven_day_opus' }, sonnet: null, other: null } });
    expect((await cli(['plan', 'list', '--user', 'nobody'])).stderr).toBe('ccproxy: no user named "nobody"\n');
  });
});

describe('ccproxy plan set', () => {
  const settings = async (userId: string) => (await (await request(`${proxy.url}/admin/users/${userId}/plan`, { headers: admin })).body.json()) as Record<string, unknown>;

  it("sets a user's own threshold and overage policy, and goes back to the server's", async () => {
    const set = await cli(['plan', 'set', 'pia', '--threshold', '90%']);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toBe(`Plan rule of pia (${keys.pia.userId}): threshold 90% (server: 98%), overage move (to Bedrock at the limit, paid overage or not)\n`);
    expect(await settings(keys.pia.userId)).toEqual({ user_id: keys.pia.userId, switch_threshold: 0.9, effective_threshold: 0.9, server_threshold: 0.98, overage: 'move' });
    expect(row((await cli(['plan', 'list'])).stdout, 'pia')).toMatch(/\s+Plan\s+90%\s+move\s+closed$/);

    // 42 % of the 5-hour window is past a threshold of 0.4: pia's requests go to Bedrock now.
    const lower = await cli(['plan', 'set', keys.pia.userId, '--threshold', '0.4', '--overage', 'stay']);
    expect(lower.stdout).toBe(`Plan rule of pia (${keys.pia.userId}): threshold 40% (server: 98%), overage stay (paid overage keeps them on Anthropic)\n`);
    expect(row((await cli(['plan', 'list'])).stdout, 'pia')).toMatch(/\s+Bedrock: plan_threshold until \S+( \S+)?\s+40%\s+stay\s+closed$/);

    const back = await cli(['plan', 'set', 'pia', '--threshold', 'default']);
    expect(back.stdout).toBe(`Plan rule of pia (${keys.pia.userId}): threshold 98% (server), overage stay (paid overage keeps them on Anthropic)\n`);
    expect(await settings(keys.pia.userId)).toMatchObject({ switch_threshold: null, effective_threshold: 0.98, overage: 'stay' });
    expect(row((await cli(['plan', 'list'])).stdout, 'pia')).toMatch(/\s+Plan\s+98% \(server\)\s+stay\s+closed$/);
    expect(JSON.parse((await cli(['plan', 'set', 'pia', '--threshold', '.955', '--json'])).stdout)).toMatchObject({ switch_threshold: 0.955 });
  });

  it('refuses what it cannot send, in words, with exit code 1, and changes nothing', async () => {
    const before = await settings(keys.quinn.userId);
    const refusals: [string[], string][] = [
      [['--threshold', '90'], '--threshold must be above 0 and at most 1 (0.9), a percentage (90%), or default (got "90")'],
      [['--threshold', '0'], '--threshold must be above 0 and at most 1 (0.9), a percentage (90%), or default (got "0")'],
      [['--threshold', '101%'], '--threshold must be above 0 and at most 1 (0.9), a percentage (90%), or default (got "101%")'],
      [['--threshold', 'high'], '--threshold must be above 0 and at most 1 (0.9), a percentage (90%), or default (got "high")'],
      [['--overage', 'maybe'], '--overage must be one of stay, move (got "maybe")'],
      [[], 'nothing to change: give --threshold or --overage'],
    ];
    for (const [options, message] of refusals) {
      const res = await cli(['plan', 'set', 'quinn', ...options]);
      expect(res, options.join(' ')).toMatchObject({ code: 1, stdout: '', stderr: `ccproxy: ${message}\n` });
    }
    expect(await cli(['plan', 'set', 'nobody', '--threshold', '0.9'])).toMatchObject({ code: 1, stderr: 'ccproxy: no user named "nobody"\n' });
    expect(await cli(['plan', 'set'])).toMatchObject({ code: 1, stderr: 'ccproxy: missing user id or name; see "ccproxy --help"\n' });
    expect(await settings(keys.quinn.userId)).toEqual(before);
  });
});

describe('ccproxy plan report', () => {
  let sam: Key;

  beforeAll(async () => {
    sam = await proxy.createKey('sam');
    const plan = { ...sam, inputTokens: 1000, outputTokens: 100 }; // Opus 5.5 on the Plan: $0.006 at API prices
    const bedrock = { ...sam, provider: 'bedrock' as const, isFallback: true, region: 'us-east-1', servedModel: 'us.anthropic.claude-opus-5-5', inputTokens: 10, outputTokens: 10 }; // $0.000264
    for (const event of [
      usageEvent({ ...plan, occurredAt: new Date('2026-11-02T01:00:00Z'), planStatus: 'allowed', plan5hUtilization: 0.5 }),
      usageEvent({ ...plan, occurredAt: new Date('2026-11-02T02:00:00Z'), planStatus: 'allowed_warning', plan5hUtilization: 0.97 }),
      // Two threshold moves in one 5-minute slot, the first a session switch that wrote the cache ($0.0055).
      usageEvent({ ...bedrock, occurredAt: new Date('2026-11-02T03:00:00Z'), fallbackReason: 'plan_threshold', providerSwitch: true, cacheWrite5mTokens: 1000 }),
      usageEvent({ ...bedrock, occurredAt: new Date('2026-11-02T03:02:00Z'), fallbackReason: 'plan_threshold' }),
      usageEvent({ ...bedrock, occurredAt: new Date('2026-11-02T04:00:00Z'), fallbackReason: 'usage_limit' }),
    ])
      proxy.app.recorder.record(event);
    await proxy.flushUsage();
    observe(sam, unifiedLimitHeaders({ fiveHour: { utilization: 0.99, reset: nowSeconds() + 3600 }, sevenDay: { utilization: 0.2, reset: nowSeconds() + 86_400 } }));
  });

  it("prints capacity now, Plan traffic at API prices, Bedrock spend and time by reason, and what switching cost", async () => {
    const res = await cli(['plan', 'report', '--user', 'sam', '--start', '2026-11-02', '--end', '2026-11-02']);
    expect(res.stderr).toBe('');
    expect(res.stdout.split('\n')).toEqual([
      '2026-11-02T00:00:00+09:00 – 2026-11-03T00:00:00+09:00 (Asia/Seoul)',
      'Plan capacity now: 1 key(s) read, mean 5h 99%, mean 7d 20%; 1 key(s) parked on Bedrock',
      'Plan traffic at API prices: $0.012',
      'Bedrock: $0.006292',
      'reason          requests  minutes  cost_usd',
      'plan_threshold  2         5        0.006028',
      'usage_limit     1         5        0.000264',
      'Spend caused by switching early (plan_threshold on Bedrock): $0.006028',
      "Spend avoided by switching late (Plan traffic after Anthropic's warning, at API prices): $0.006",
      'Session switches: 1, their cache writes $0.0055',
      '',
    ]);
    const json = JSON.parse((await cli(['plan', 'report', '--user', sam.userId, '--start', '2026-11-02', '--end', '2026-11-02', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ plan_cost_at_api_prices_usd: '0.012', spend_caused_early_usd: '0.006028', spend_avoided_late_usd: '0.006', session_switches: 1 });
  });

  it('takes a period as the usage commands do', async () => {
    const month = await cli(['plan', 'report', '--period', 'month']);
    expect(month.code).toBe(0);
    expect(month.stdout).toMatch(/^\d{4}-\d{2}-01T00:00:00\+09:00 – \d{4}-\d{2}-01T00:00:00\+09:00 \(Asia\/Seoul\)\n/);
    expect(month.stdout).toMatch(/\nPlan capacity now: 4 key\(s\) read, mean 5h \d+(\.\d)?%, mean 7d \d+(\.\d)?%; 3 key\(s\) parked on Bedrock\n/);
    const bad = await cli(['plan', 'report', '--period', 'year']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ccproxy: 400: .*period/);
  });
});

describe('ccproxy plan list, a key without a Bedrock key', () => {
  it('says its requests stay on the Plan however parked, and "no Bedrock key" for the breaker', async () => {
    const nico = await proxy.createKey('nico');
    const reset = nowSeconds() + 3600;
    // Past the server's threshold, and Anthropic keeps failing: with a Bedrock key both would mean Bedrock.
    observe(nico, unifiedLimitHeaders({ status: 'rejected', claim: 'five_hour', reset, fiveHour: { utilization: 1, reset }, sevenDay: { utilization: 0.4, reset: nowSeconds() + 86_400 } }));
    for (let i = 0; i < 3; i++) proxy.app.breakers.failure(nico.accessKeyId, 'upstream_529');
    const json = JSON.parse((await cli(['plan', 'list', '--user', 'nico', '--json'])).stdout) as { items: { parked: { other: unknown }; breaker: Record<string, unknown> }[] };
    expect(json.items[0]!.parked.other).toMatchObject({ reason: 'usage_limit' });
    expect(json.items[0]!.breaker).toMatchObject({ state: 'open', fallback_unavailable: 'no_bedrock_key' });

    const res = await cli(['plan', 'list', '--user', 'nico']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(row(res.stdout, 'nico')).toMatch(/^nico\s+ak_\S+\s+100% \(resets \S+\)\s+40%\s+rejected\s+Plan \(no Bedrock key\)\s+98% \(server\)\s+move\s+no Bedrock key$/);

    // With one, the same key goes to Bedrock and its breaker is an ordinary one again.
    await proxy.registerBedrockKey(nico.accessKeyId);
    expect(row((await cli(['plan', 'list', '--user', 'nico'])).stdout, 'nico')).toMatch(/\s+rejected\s+Bedrock: usage_limit until \S+( \S+)?\s+98% \(server\)\s+move\s+open \(upstream_529\)$/);
  });
});

describe('ccproxy keys issue', () => {
  it('prints the key id and a settings.json for Claude Code with the status line', async () => {
    expect((await cli(['users', 'add', 'vera'])).code).toBe(0);
    const issued = await cli(['keys', 'issue', 'vera']);
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    const rawKey = /ak_[A-Za-z0-9_-]{43}/.exec(issued.stdout)![0];
    const listed = JSON.parse((await cli(['keys', 'list', 'vera', '--json'])).stdout) as { items: { id: string }[] };
    expect(issued.stdout).toContain(`\nKey id: ${listed.items[0]!.id}  prefix: ${rawKey.slice(0, 11)}  (keys bedrock|region|rotate|revoke take either)\n`);
    expect(issued.stdout).toContain(`export ANTHROPIC_BASE_URL=${proxy.url}/ak/${rawKey}\n`);

    const snippet = issued.stdout.slice(issued.stdout.indexOf('\n{\n') + 1);
    const settings = JSON.parse(snippet) as { statusLine: { command: string } };
    expect(settings).toEqual({
      env: { ANTHROPIC_BASE_URL: `${proxy.url}/ak/${rawKey}` },
      statusLine: { type: 'command', command: `curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' ${proxy.url}/ak/${rawKey}/status` },
    });
    expect(snippet).toBe(`${JSON.stringify(settings, null, 2)}\n\n`);

    // What the status line's command asks for answers.
    const status = await request(`${proxy.url}/ak/${rawKey}/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":{"id":"claude-opus-5-5"}}' });
    expect(status.statusCode).toBe(200);
    expect(await status.body.text()).toMatch(/^Plan · no Plan reading yet · Bedrock \$0\.00 this month\n$/);
  });
});
