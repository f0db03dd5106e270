// The Plan window (README, "Plan window") as the dashboard shows it: Anthropic's usage windows of a
// developer's Claude plan, where their requests go now, and the threshold that moves them.
import { FALLBACK_REASON_LABELS } from './labels.ts';
import type { PlanWindow, RoutingStrategy } from './types.ts';

export type WindowName = keyof PlanWindow['windows'];
export type WindowReading = NonNullable<PlanWindow['windows'][WindowName]>;
export type Family = keyof PlanWindow['parked'];

export const WINDOW_LABELS: Record<WindowName, string> = {
  five_hour: '5-hour',
  seven_day: '7-day',
  seven_day_opus: '7-day Opus',
  seven_day_sonnet: '7-day Sonnet',
  overage: 'Paid overage',
};

const FAMILY_LABELS: Record<Family, string> = { opus: 'Opus', sonnet: 'Sonnet', other: 'other models' };
const FAMILIES: Family[] = ['opus', 'sonnet', 'other'];

/** The windows a reading has, in a fixed order: the 5-hour and 7-day ones always (empty when absent), the others when present. */
export function shownWindows(windows: PlanWindow['windows']): { name: WindowName; label: string; reading: WindowReading | null }[] {
  const order: WindowName[] = ['five_hour', 'seven_day', 'seven_day_opus', 'seven_day_sonnet', 'overage'];
  return order
    .filter((name) => name === 'five_hour' || name === 'seven_day' || windows[name] !== undefined)
    .map((name) => ({ name, label: WINDOW_LABELS[name], reading: windows[name] ?? null }));
}

/** Utilization as an admin compares it with a threshold: whole percent, with one decimal from 90 % on, where thresholds sit. */
export function formatUtilization(utilization: number | null | undefined): string {
  if (utilization === null || utilization === undefined || !Number.isFinite(utilization)) return '—';
  const pct = utilization * 100;
  if (pct >= 90 && pct < 100) return `${Number(pct.toFixed(1))}%`;
  return `${Math.round(pct)}%`;
}

/** A threshold (0–1) as a percent, to two decimals at most: 0.98 → "98%", 0.975 → "97.5%". */
export function formatThreshold(threshold: number): string {
  return `${Number((threshold * 100).toFixed(2))}%`;
}

/** A percent typed by the admin as the threshold the API takes (above 0, at most 1). */
export function parseThresholdPercent(text: string): { value: number } | { error: string } {
  const trimmed = text.trim().replace(/%$/, '').trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return { error: 'Enter the threshold as a percent, e.g. 90.' };
  const pct = Number(trimmed);
  if (pct <= 0 || pct > 100) return { error: 'The threshold must be above 0 % and at most 100 %.' };
  // Hundredths of a percent: 33.3 must become 0.333, not 0.33299999999999996.
  return { value: Math.round(pct * 100) / 10_000 };
}

/** Where one or more model families' `plan_first` requests go now. */
export interface Route {
  families: Family[];
  /** `none`: refused (bedrock_only without a Bedrock key). */
  provider: 'plan' | 'bedrock' | 'none';
  /**
   * Why Bedrock: a park's reason, or the open breaker; `no_bedrock_key`: why they stay on the Plan
   * (plan_first) or are refused (bedrock_only); null on the Plan or by routing strategy.
   */
  reason: 'usage_limit' | 'plan_threshold' | 'circuit_open' | 'no_bedrock_key' | null;
  window: WindowName | null;
  /** When requests go back to Anthropic (ISO), when known. */
  until: string | null;
}

/**
 * Where the key's requests go now, one route per distinct destination: a single route when every
 * model family goes the same way, else one per family group (a family's weekly window parks only it).
 * The order matches the proxy's (backend/src/proxy/routing.ts): a park first, then an open breaker;
 * and without a Bedrock key (the breaker's `fallback_unavailable`) neither has anywhere to send
 * them, so `plan_first` requests stay on Anthropic and `bedrock_only` ones are refused.
 */
export function routesNow(item: Pick<PlanWindow, 'parked' | 'breaker'>, routing: RoutingStrategy): Route[] {
  const noBedrockKey = item.breaker.fallback_unavailable === 'no_bedrock_key';
  const everyFamily = (provider: Route['provider'], reason: Route['reason']): Route[] => [{ families: [...FAMILIES], provider, reason, window: null, until: null }];
  if (routing === 'plan_only') return everyFamily('plan', null);
  if (routing === 'bedrock_only') return noBedrockKey ? everyFamily('none', 'no_bedrock_key') : everyFamily('bedrock', null);
  if (noBedrockKey) return everyFamily('plan', 'no_bedrock_key');
  const routes: Route[] = [];
  for (const family of FAMILIES) {
    const park = item.parked[family];
    const route: Omit<Route, 'families'> = park
      ? { provider: 'bedrock', reason: park.reason, window: park.window as WindowName, until: park.until }
      : item.breaker.state === 'open'
        ? { provider: 'bedrock', reason: 'circuit_open', window: null, until: item.breaker.retry_at }
        : { provider: 'plan', reason: null, window: null, until: null };
    const same = routes.find((r) => r.provider === route.provider && r.reason === route.reason && r.window === route.window && r.until === route.until);
    if (same) same.families.push(family);
    else routes.push({ families: [family], ...route });
  }
  return routes;
}

/** "Opus", "Sonnet and other models"; empty when the route covers every family. */
export function familiesLabel(families: Family[]): string {
  if (families.length === FAMILIES.length) return '';
  const names = families.map((f) => FAMILY_LABELS[f]);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/** "Bedrock: Plan threshold, 5-hour window" (the time is added by the caller, in TIMEZONE). */
export function routeLabel(route: Route): string {
  if (route.provider === 'none') return 'Refused: bedrock_only without a Bedrock key';
  if (route.provider === 'plan') return route.reason === 'no_bedrock_key' ? 'Plan (no Bedrock key)' : 'Plan (Anthropic)';
  if (!route.reason) return 'Bedrock (routing strategy)';
  const why = FALLBACK_REASON_LABELS[route.reason] ?? route.reason;
  return `Bedrock: ${why}${route.window ? `, ${WINDOW_LABELS[route.window] ?? route.window} window` : ''}`;
}
