import type { PlanPark, PlanReport, PlanSettings, PlanWindow, PlanWindowList, PutPlanSettingsBody } from '../admin/contract.ts';
import { CliError, need, type Globals, type Handler } from './context.ts';
import { api, findUser } from './http.ts';
import { clock, out, percent, table } from './output.ts';
import { usageQuery } from './usage.ts';

// plan list|set|report: the Plan window (README "Plan window").

const OVERAGE: readonly string[] = ['stay', 'move'] satisfies PlanSettings['overage'][];
const isOverage = (value: string): value is PlanSettings['overage'] => OVERAGE.includes(value);
const FAMILIES = ['opus', 'sonnet', 'other'] as const;

/**
 * Where the key's `plan_first` requests go now: one answer, or one per model family when they differ.
 * Without a Bedrock key a park or an open breaker has nowhere to send them: they stay on Anthropic
 * (proxy/routing.ts), and the answer says so.
 */
function whereNow(w: PlanWindow, time: (iso: string) => string): string {
  if (w.breaker.fallback_unavailable === 'no_bedrock_key') return 'Plan (no Bedrock key)';
  const breakerOpen = w.breaker.state === 'open';
  const text = (p: PlanPark | null): string => {
    if (p) return `Bedrock: ${p.reason} until ${time(p.until)}`;
    if (breakerOpen) return `Bedrock: circuit_open${w.breaker.retry_at ? ` until ${time(w.breaker.retry_at)}` : ''}`;
    return 'Plan';
  };
  const byText = new Map<string, string[]>();
  for (const family of FAMILIES) {
    const t = text(w.parked[family]);
    byText.set(t, [...(byText.get(t) ?? []), family]);
  }
  if (byText.size === 1) return [...byText.keys()][0]!;
  // A model family's weekly window parks only that family.
  return [...byText].map(([t, families]) => `${families.join(', ')} → ${t}`).join('; ');
}

/** The breaker as `open (upstream_529)`, `closed (2 failure(s))`; "no Bedrock key" for a key that cannot fall back at all. */
function breakerText(b: PlanWindow['breaker']): string {
  if (b.fallback_unavailable === 'no_bedrock_key') return 'no Bedrock key';
  const detail = b.state !== 'closed' && b.reason ? ` (${b.reason})` : b.failures ? ` (${b.failures} failure(s))` : '';
  return `${b.state}${detail}`;
}

function windowRow(w: PlanWindow, time: (iso: string) => string): Record<string, string> {
  const use = (r: PlanWindow['windows']['five_hour'], withReset: boolean) =>
    r ? `${percent(r.utilization)}${withReset && r.resets_at ? ` (resets ${time(r.resets_at)})` : ''}` : '';
  return {
    user: w.user_name,
    key: w.key_prefix,
    '5h': use(w.windows.five_hour, true),
    '7d': use(w.windows.seven_day, false),
    status: w.status === null ? 'no reading' : `${w.status}${w.warning ? ' (warning)' : ''}`,
    now: whereNow(w, time),
    threshold: `${percent(w.threshold)}${w.threshold_source === 'server' ? ' (server)' : ''}`,
    overage: w.overage_policy,
    breaker: breakerText(w.breaker),
  };
}

/** `0.9`, `.9`, `90%` or `default` (the server's PLAN_SWITCH_THRESHOLD). */
function thresholdOf(text: string): number | null {
  if (text.toLowerCase() === 'default') return null;
  const match = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(text.trim());
  const value = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  if (!(value > 0 && value <= 1)) throw new CliError(`--threshold must be above 0 and at most 1 (0.9), a percentage (90%), or default (got "${text}")`);
  return Number(value.toFixed(6));
}

function settingsText(name: string, s: PlanSettings): string {
  const threshold = s.switch_threshold === null ? `${percent(s.effective_threshold)} (server)` : `${percent(s.switch_threshold)} (server: ${percent(s.server_threshold)})`;
  const overage = s.overage === 'stay' ? 'paid overage keeps them on Anthropic' : 'to Bedrock at the limit, paid overage or not';
  return `Plan rule of ${name} (${s.user_id}): threshold ${threshold}, overage ${s.overage} (${overage})`;
}

function reportText(r: PlanReport): string {
  const c = r.capacity;
  const capacity = c.keys
    ? `${c.keys} key(s) read, mean 5h ${percent(c.mean_5h_utilization)}, mean 7d ${percent(c.mean_7d_utilization)}`
    : 'no Plan readings';
  const reasons = r.bedrock.by_reason.map((b) => ({ ...b, reason: b.reason ?? '(routing)' }));
  return [
    `${r.period.start} – ${r.period.end} (${r.period.timezone})`,
    `Plan capacity now: ${capacity}; ${c.parked_keys} key(s) parked on Bedrock`,
    `Plan traffic at API prices: $${r.plan_cost_at_api_prices_usd}`,
    `Bedrock: $${r.bedrock.cost_usd}`,
    table(reasons, ['reason', 'requests', 'minutes', 'cost_usd']),
    `Spend caused by switching early (plan_threshold on Bedrock): $${r.spend_caused_early_usd}`,
    `Spend avoided by switching late (Plan traffic after Anthropic's warning, at API prices): $${r.spend_avoided_late_usd}`,
    `Session switches: ${r.session_switches}, their cache writes $${r.switch_cache_write_cost_usd}`,
  ].join('\n');
}

export const planCommands: Record<string, Handler> = {
  'plan list': async ({ g, values }) => {
    const user = values.user ? await findUser(g, values.user) : undefined;
    const res = await api<PlanWindowList>(g, 'GET', `/admin/plan-windows${user ? `?user_id=${user.id}` : ''}`);
    if (g.json) return out(g, res, '');
    const time = (iso: string) => clock(iso, res.timezone);
    const footer = `${res.items.length} key(s); times in ${res.timezone}; server threshold ${percent(res.server_threshold)}`;
    const columns = ['user', 'key', '5h', '7d', 'status', 'now', 'threshold', 'overage', 'breaker'];
    return out(g, res, `${table(res.items.map((w) => windowRow(w, time)), columns)}\n${footer}`);
  },

  'plan set': async ({ g, values, arg }) => {
    const ref = need(arg, 'user id or name');
    const body: PutPlanSettingsBody = {};
    if (values.threshold !== undefined) body.switch_threshold = thresholdOf(values.threshold);
    if (values.overage !== undefined) {
      if (!isOverage(values.overage)) throw new CliError(`--overage must be one of ${OVERAGE.join(', ')} (got "${values.overage}")`);
      body.overage = values.overage;
    }
    if (Object.keys(body).length === 0) throw new CliError('nothing to change: give --threshold or --overage');
    const user = await findUser(g, ref);
    const res = await api<PlanSettings>(g, 'PUT', `/admin/users/${user.id}/plan`, body);
    return out(g, res, settingsText(user.name, res));
  },

  'plan report': async (command) => {
    const res = await api<PlanReport>(command.g, 'GET', `/admin/usage/plan?${await usageQuery(command, {})}`);
    return out(command.g, res, reportText(res));
  },
};
