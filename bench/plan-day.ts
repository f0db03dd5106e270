/**
 * One simulated working day of a developer who reaches the Plan's 5-hour limit, through the real
 * proxy (in this process, on PGlite) in front of the test fakes, under several switch policies:
 * how many requests Bedrock served, what they cost, and how many 429 round trips Anthropic answered.
 *
 *   node --import tsx bench/plan-day.ts
 *
 * The day runs on a virtual clock (Date.now is replaced before the app starts, so the proxy's Plan
 * windows, breakers and sessions all see it): 09:00–18:00 UTC, a Claude Code turn every 40 s, a new
 * session every 45 minutes, lunch 12:30–13:00. The fake Anthropic plays the Plan: each turn uses its cost
 * at API prices of a 5-hour window worth PLAN_WINDOW_USD; a window starts with the first turn after
 * the last one ended; at the limit it answers 429 `rejected` with the reset. Every answer carries
 * the unified headers. Bedrock dollars are the product's own Bedrock prices for the same tokens: a
 * turn whose session was last served by the other provider (or idle past 5 minutes) writes its
 * whole context to the cache instead of reading it.
 *
 * Failing over on every 429 with no memory of the window (what other gateways do) is not a proxy
 * setting: it sends the same turns to Bedrock as moving on Anthropic's rejection and coming back at
 * the reset, but each of them asks Anthropic first; that row is derived from that run.
 */

import { request } from 'undici';

const DAY_START = Date.parse('2026-12-07T09:00:00Z');
const DAY_END = Date.parse('2026-12-07T18:00:00Z');
const TURN_EVERY_MS = 40_000;
const SESSION_MS = 45 * 60_000;
const LUNCH = [Date.parse('2026-12-07T12:30:00Z'), Date.parse('2026-12-07T13:00:00Z')] as const;
const WINDOW_MS = 5 * 3600_000;
const PLAN_WINDOW_USD = Number(process.env.PLAN_WINDOW_USD ?? 20);
const MODEL = 'claude-opus-4-5';
const CACHE_MS = 5 * 60_000;
// A Claude Code turn deep in a session: the context read from the cache, a little written, an answer.
const WARM = { inputTokens: 50, cacheReadTokens: 60_000, cacheWrite5mTokens: 2_500, cacheWrite1hTokens: 0, outputTokens: 700 };
// The same turn when the serving provider's cache is cold: the whole context is written.
const COLD = { inputTokens: 50, cacheReadTokens: 0, cacheWrite5mTokens: 62_500, cacheWrite1hTokens: 0, outputTokens: 700 };

// The virtual clock: replaced before anything of the app is loaded, so every `Date.now` it captures is this one.
let virtualNow = DAY_START;
Date.now = () => virtualNow;

const { startInProcessProxy } = await import('./in-process-proxy.ts');
const { costEvent } = await import('../backend/src/accounting/cost.ts');
const { usageEvent } = await import('../backend/test/support/usage-events.ts');
const { resolveBedrockModel } = await import('../backend/src/bedrock/models.ts');
const { startFakeAnthropic, errorReply, unifiedLimitHeaders } = await import('../backend/test/fakes/anthropic.ts');
const { messageToEvents, textMessage } = await import('../backend/test/fakes/anthropic-messages.ts');
const { startFakeBedrock } = await import('../backend/test/fakes/bedrock.ts');
type App = Awaited<ReturnType<typeof startInProcessProxy>>['app'];
type Tokens = typeof WARM;

interface Turn {
  at: number;
  session: string;
}

/** The day's turns. */
function day(): Turn[] {
  const turns: Turn[] = [];
  for (let at = DAY_START; at < DAY_END; at += TURN_EVERY_MS) {
    if (at >= LUNCH[0] && at < LUNCH[1]) continue;
    turns.push({ at, session: `session-${Math.floor((at - DAY_START) / SESSION_MS)}` });
  }
  return turns;
}

/** What a turn costs at `provider`'s prices (the product's price book). */
function priceOf(app: App, provider: 'plan' | 'bedrock', tokens: Tokens, at: number): number {
  const servedModel = provider === 'plan' ? MODEL : resolveBedrockModel(MODEL, 'us-east-1', []).modelId;
  const cost = costEvent(
    app.accounting.prices.current(),
    usageEvent({ occurredAt: new Date(at), provider, requestedModel: MODEL, servedModel, region: provider === 'bedrock' ? 'us-east-1' : null, ...tokens }),
  );
  if (!cost) throw new Error(`no ${provider} price for ${MODEL}`);
  return Number(cost.totalUsd);
}

/** The Plan as the fake Anthropic plays it: one 5-hour window at a time, used up by API-priced turns. */
function planModel(app: () => App) {
  let windowStart: number | null = null;
  let used = 0;
  let weekUsed = 0;
  const lastServed = new Map<string, number>(); // session → when Anthropic last served it
  let rejections = 0;
  let served = 0;
  const peak: number[] = [];
  return {
    reply(session: string) {
      const t = Date.now();
      if (windowStart === null || t >= windowStart + WINDOW_MS) {
        if (windowStart !== null) peak.push(used / PLAN_WINDOW_USD);
        windowStart = t;
        used = 0;
      }
      const reset = Math.floor((windowStart + WINDOW_MS) / 1000);
      const headers = (status: 'allowed' | 'allowed_warning' | 'rejected', u: number) =>
        unifiedLimitHeaders({
          status,
          fiveHour: { utilization: Math.round(u * 10_000) / 10_000, reset, ...(u >= 0.9 ? { surpassedThreshold: 0.9 } : {}) },
          sevenDay: { utilization: Math.round((weekUsed / (PLAN_WINDOW_USD * 15)) * 10_000) / 10_000, reset: reset + 6 * 86_400 },
        });
      if (used >= PLAN_WINDOW_USD) {
        rejections++;
        return errorReply(429, 'rate_limit_error', 'You have reached your 5-hour usage limit', headers('rejected', 1));
      }
      const warm = t - (lastServed.get(session) ?? -Infinity) < CACHE_MS;
      lastServed.set(session, t);
      const tokens = warm ? WARM : COLD;
      const cost = priceOf(app(), 'plan', tokens, t);
      // The headers go out before the answer is generated: they report the window before this turn.
      const u = used / PLAN_WINDOW_USD;
      used += cost;
      weekUsed += cost;
      served++;
      const message = textMessage({
        model: MODEL,
        text: 'done',
        usage: { input_tokens: tokens.inputTokens, cache_read_input_tokens: tokens.cacheReadTokens, cache_creation_input_tokens: tokens.cacheWrite5mTokens, output_tokens: tokens.outputTokens },
      });
      return { kind: 'stream' as const, events: messageToEvents(message), headers: headers(u >= 0.9 ? 'allowed_warning' : 'allowed', u) };
    },
    stats: () => ({ rejections, served, peaks: [...peak, used / PLAN_WINDOW_USD] }),
  };
}

/** The proxy with one plan_first developer whose key has a Bedrock key. */
async function startProxy(env: Record<string, string>) {
  const proxy = await startInProcessProxy({ TIMEZONE: 'UTC', ...env });
  const user = await proxy.adminApi('POST', '/admin/users', { name: 'developer' });
  const issued = await proxy.adminApi('POST', `/admin/users/${user.id}/access-keys`, {});
  await proxy.adminApi('PUT', `/admin/access-keys/${issued.id}/bedrock-key`, { bedrock_api_key: 'ABSK-plan-day-bench' });
  return { app: proxy.app, messages: `${proxy.url}/ak/${issued.raw_key}/v1/messages`, close: proxy.close };
}

interface Result {
  policy: string;
  anthropic: number;
  bedrock: number;
  bedrockUsd: number;
  rejections: number;
  switches: number;
  planPeaks: number[];
}

/** The day through the proxy with these settings. */
async function run(policy: string, env: Record<string, string>): Promise<Result & { trace: { at: number; provider: string }[] }> {
  virtualNow = DAY_START - 60_000;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  const plan = planModel(() => proxy!.app);
  const anthropic = await startFakeAnthropic();
  const bedrock = await startFakeBedrock();
  proxy = await startProxy({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1', BEDROCK_API: 'invoke', ...env });
  const lastBedrock = new Map<string, number>();
  const lastProvider = new Map<string, string>();
  const trace: { at: number; provider: string }[] = [];
  let bedrockUsd = 0;
  let switches = 0;
  try {
    for (const turn of day()) {
      virtualNow = turn.at;
      // One scripted reply waits at a time; a turn Bedrock took without asking leaves it for the next.
      if (anthropic.pendingReplies() === 0) anthropic.reply((r) => plan.reply(String(r.headers['x-claude-code-session-id'])));
      const before = bedrock.requests.length;
      const res = await request(proxy.messages, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-oat01-plan', 'x-claude-code-session-id': turn.session },
        body: JSON.stringify({ model: MODEL, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'next step' }] }),
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${policy}: HTTP ${res.statusCode} at ${new Date(turn.at).toISOString()}`);
      const provider = bedrock.requests.length > before ? 'bedrock' : 'plan';
      if (lastProvider.has(turn.session) && lastProvider.get(turn.session) !== provider) switches++;
      lastProvider.set(turn.session, provider);
      trace.push({ at: turn.at, provider });
      if (provider === 'bedrock') {
        const warm = turn.at - (lastBedrock.get(turn.session) ?? -Infinity) < CACHE_MS;
        lastBedrock.set(turn.session, turn.at);
        bedrockUsd += priceOf(proxy.app, 'bedrock', warm ? WARM : COLD, turn.at);
      }
    }
    const stats = plan.stats();
    return { policy, anthropic: stats.served, bedrock: trace.filter((t) => t.provider === 'bedrock').length, bedrockUsd, rejections: stats.rejections, switches, planPeaks: stats.peaks, trace };
  } finally {
    await proxy.close();
    await anthropic.close();
    await bedrock.close();
  }
}

const results: Result[] = [];
const runs: [string, Record<string, string>][] = [
  ['threshold 0.98, sticky 300 s (defaults)', {}],
  ['threshold 0.98, sticky off', { SESSION_STICKY_IDLE: '0' }],
  ['threshold 0.99, sticky 300 s', { PLAN_SWITCH_THRESHOLD: '0.99' }],
  ['threshold 0.95, sticky 300 s', { PLAN_SWITCH_THRESHOLD: '0.95' }],
  ['threshold 1 (Anthropic\'s rejection only), sticky 300 s', { PLAN_SWITCH_THRESHOLD: '1' }],
  ['threshold 1 (Anthropic\'s rejection only), sticky off', { PLAN_SWITCH_THRESHOLD: '1', SESSION_STICKY_IDLE: '0' }],
];
let failOnRejection: Awaited<ReturnType<typeof run>> | undefined;
for (const [policy, env] of runs) {
  const result = await run(policy, env);
  results.push(result);
  if (env.PLAN_SWITCH_THRESHOLD === '1' && env.SESSION_STICKY_IDLE === '0') failOnRejection = result;
}

// Derived from the run that moves on Anthropic's rejection and comes back at the reset: the same
// turns go to Bedrock for a gateway that fails over on every 429, but each first asks Anthropic.
if (failOnRejection) {
  const { trace: _trace, ...same } = failOnRejection;
  results.push({ ...same, policy: 'every 429 fails over, no window memory (derived)', rejections: failOnRejection.bedrock });
}

const usd = (n: number) => `$${n.toFixed(2)}`;
console.log(`One day, ${day().length} turns of ${MODEL}; a 5-hour Plan window is worth ${usd(PLAN_WINDOW_USD)} at API prices.`);
console.log('| policy | Anthropic turns | Bedrock turns | Bedrock $ | 429 round trips | session switches | Plan used per window |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.policy} | ${r.anthropic} | ${r.bedrock} | ${usd(r.bedrockUsd)} | ${r.rejections} | ${r.switches} | ${r.planPeaks.map((p) => `${Math.round(p * 1000) / 10}%`).join(', ')} |`);
}
process.exit(0);
