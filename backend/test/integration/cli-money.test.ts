import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

// `ccproxy usage | budget | pricing`: the money commands, as a client of the admin API.

let proxy: TestApp;
let configDir: string;
let erin: { userId: string; accessKeyId: string };

const cli = (args: string[], stdin = '') => runCli({ url: proxy.url, configDir }, args, stdin);

beforeAll(async () => {
  proxy = await startTestApp({ TIMEZONE: 'Asia/Seoul' });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-cli-money-'));
  expect((await cli(['login'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
  erin = await proxy.createKey('erin');
  // Two requests on 2 November 2026 (Seoul), 1,000 in + 100 out on Opus 5.5: $0.006 each.
  for (const at of ['2026-11-02T01:00:00Z', '2026-11-02T05:00:00Z']) {
    proxy.app.recorder.record({
      requestId: `req_${randomUUID()}`,
      occurredAt: new Date(at),
      ...erin,
      endpoint: 'messages',
      provider: 'plan',
      isFallback: false,
      fallbackReason: null,
      requestedModel: 'claude-opus-5-5',
      servedModel: 'claude-opus-5-5',
      stream: false,
      statusCode: 200,
      outcome: 'completed',
      errorType: null,
      stopReason: 'end_turn',
      inputTokens: 1000,
      outputTokens: 100,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      latencyMs: 10,
      ttfbMs: 5,
      upstreamRequestId: null,
    });
  }
  await proxy.flushUsage();
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(configDir, { recursive: true, force: true });
});

describe('ccproxy money commands', () => {
  it('prints a usage table per bucket with the totals, for a user named on the command line', async () => {
    const res = await cli(['usage', '--user', 'erin', '--start', '2026-11-01', '--end', '2026-11-03', '--bucket', 'day']);
    expect(res.stderr).toBe('');
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toBe('2026-11-01T00:00:00+09:00 – 2026-11-04T00:00:00+09:00 (Asia/Seoul)');
    expect(lines[1]).toMatch(/^start\s+requests\s+input_tokens\s+output_tokens\s+cache_read_tokens\s+cache_write_tokens\s+cost_usd$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual([
      ['2026-11-01T00:00:00+09:00', '0', '0', '0', '0', '0', '0.00'],
      ['2026-11-02T00:00:00+09:00', '2', '2000', '200', '0', '0', '0.012'],
      ['2026-11-03T00:00:00+09:00', '0', '0', '0', '0', '0', '0.00'],
      ['total', '2', '2000', '200', '0', '0', '0.012'],
    ]);
    const json = await cli(['usage', '--user', 'erin', '--start', '2026-11-02', '--end', '2026-11-02', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ bucket: 'day', totals: { requests: 2, cost_usd: '0.012' } });
  });

  it('ranks users and breaks cost down by model', async () => {
    const top = await cli(['usage', 'top', '--by', 'cost', '--start', '2026-11-01', '--end', '2026-11-30']);
    expect(top.stdout).toMatch(/^name\s+user_id\s+requests\s+total_tokens\s+cost_usd\nerin\s+\S+\s+2\s+2200\s+0\.012$/m);
    const breakdown = await cli(['usage', 'breakdown', '--start', '2026-11-01', '--end', '2026-11-30']);
    expect(breakdown.stdout).toMatch(/^plan\s+claude-opus-5-5\s+2\s+0\.008\s+0\.004\s+0\.00\s+0\.00\s+0\.012$/m);
  });

  it('shows, sets and removes a budget', async () => {
    expect((await cli(['budget', 'erin'])).stdout).toMatch(/^erin: \$0\.00 spent on Bedrock and \$0\.00 held by running requests since \S+; no budget; resets \S+$/m);
    const set = await cli(['budget', 'erin', '250']);
    expect(set.stdout).toMatch(/budget \$250\.00, \$250\.00 left \(0% used\)/);
    const removed = await cli(['budget', 'erin', 'none', '--json']);
    expect(JSON.parse(removed.stdout)).toMatchObject({ monthly_budget_usd: null });
    expect((await cli(['budget', 'erin', 'lots'])).stderr).toMatch(/400: monthly_budget_usd: must be a non-negative amount/);
  });

  it('lists prices and adds one', async () => {
    const list = await cli(['pricing', 'list', '--provider', 'anthropic', '--model', 'claude-opus-5-5', '--current']);
    expect(list.stdout).toMatch(/anthropic\s+claude-opus-5-5\s+4\.00\s+20\.00\s+5\.00\s+8\.00\s+0\.20\s+\S+\s+yes/);
    const added = await cli([
      'pricing', 'add', 'claude-opus-5-5', '--provider', 'bedrock', '--region', 'ap-northeast-2',
      '--input', '4.5', '--output', '22.5', '--cache-write-5m', '5.625', '--cache-write-1h', '9', '--cache-read', '0.225', '--effective', '2027-01-01',
    ]);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^Added price \d+ for bedrock claude-opus-5-5, in effect from 2026-12-31T15:00:00\.000Z$/m);
    const missing = await cli(['pricing', 'add', 'claude-opus-5-5', '--provider', 'bedrock']);
    expect(missing.stderr).toMatch(/missing --input/);
  });
});

describe('ccproxy limits', () => {
  it('shows and sets a user\'s request limits', async () => {
    expect((await cli(['limits', 'erin'])).stdout.trim()).toBe('erin: no requests per minute limit, no in flight limit (each proxy task counts on its own)');
    expect((await cli(['limits', 'erin', '--rpm', '120', '--in-flight', '4'])).stdout.trim()).toBe('erin: 120 requests per minute, 4 in flight (each proxy task counts on its own)');
    expect(JSON.parse((await cli(['limits', 'erin', '--in-flight', 'none', '--json'])).stdout)).toMatchObject({ max_requests_per_minute: 120, max_in_flight: null });
    expect((await cli(['limits', 'erin', '--rpm', '0'])).stderr).toMatch(/--rpm must be a whole number above 0, or none/);
  });
});
