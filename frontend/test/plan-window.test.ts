import { describe, expect, it } from 'vitest';
import { reasonLabel } from '../src/lib/labels.ts';
import { familiesLabel, formatThreshold, formatUtilization, parseThresholdPercent, routeLabel, routesNow, shownWindows } from '../src/lib/plan-window.ts';
import type { PlanWindow } from '../src/lib/types.ts';

const closed: PlanWindow['breaker'] = { access_key_id: 'k', state: 'closed', failures: 0, reason: null, opened_at: null, retry_at: null };
const park = (reason: 'usage_limit' | 'plan_threshold', window: string, until: string) => ({ reason, window, until });
const onPlan: PlanWindow['parked'] = { opus: null, sonnet: null, other: null };

describe('parseThresholdPercent', () => {
  it('reads a percent as the 0–1 threshold the API takes', () => {
    expect(parseThresholdPercent('90')).toEqual({ value: 0.9 });
    expect(parseThresholdPercent(' 97.5 % ')).toEqual({ value: 0.975 });
    expect(parseThresholdPercent('100')).toEqual({ value: 1 });
  });
  it('keeps hundredths of a percent exact', () => {
    expect(parseThresholdPercent('33.3')).toEqual({ value: 0.333 });
  });
  it('refuses what the API would refuse, with a message', () => {
    for (const text of ['', '0', '101', 'ninety', '-5', '0.9.1']) expect(parseThresholdPercent(text)).toHaveProperty('error');
  });
});

describe('formatUtilization and formatThreshold', () => {
  it('shows whole percents, with a decimal where thresholds sit', () => {
    expect(formatUtilization(0.42)).toBe('42%');
    expect(formatUtilization(0.975)).toBe('97.5%');
    expect(formatUtilization(0.99)).toBe('99%');
    expect(formatUtilization(1)).toBe('100%');
    expect(formatUtilization(null)).toBe('—');
  });
  it('shows a threshold to two decimals at most', () => {
    expect(formatThreshold(0.98)).toBe('98%');
    expect(formatThreshold(0.9)).toBe('90%');
    expect(formatThreshold(0.975)).toBe('97.5%');
  });
});

describe('shownWindows', () => {
  it('always lists the 5-hour and 7-day windows, the family ones only when reported', () => {
    expect(shownWindows({}).map((w) => [w.name, w.reading])).toEqual([
      ['five_hour', null],
      ['seven_day', null],
    ]);
    const opus = { utilization: 0.5, resets_at: null, surpassed_threshold: null };
    expect(shownWindows({ seven_day_opus: opus }).map((w) => w.label)).toEqual(['5-hour', '7-day', '7-day Opus']);
  });
});

describe('routesNow', () => {
  it('is one route on the Plan when nothing is parked', () => {
    expect(routesNow({ parked: onPlan, breaker: closed }, 'plan_first')).toEqual([{ families: ['opus', 'sonnet', 'other'], provider: 'plan', reason: null, window: null, until: null }]);
  });
  it('is one Bedrock route with the reason and the reset when every family is parked alike', () => {
    const p = park('plan_threshold', 'five_hour', '2026-11-25T09:00:00.000Z');
    const [route, ...rest] = routesNow({ parked: { opus: p, sonnet: p, other: p }, breaker: closed }, 'plan_first');
    expect(rest).toEqual([]);
    expect(route).toMatchObject({ provider: 'bedrock', reason: 'plan_threshold', window: 'five_hour', until: '2026-11-25T09:00:00.000Z' });
    expect(routeLabel(route!)).toBe('Bedrock: Plan threshold, 5-hour window');
    expect(familiesLabel(route!.families)).toBe('');
  });
  it('splits by model family when a family window parks only that family', () => {
    const p = park('usage_limit', 'seven_day_opus', '2026-11-30T00:00:00.000Z');
    const routes = routesNow({ parked: { opus: p, sonnet: null, other: null }, breaker: closed }, 'plan_first');
    expect(routes.map((r) => [familiesLabel(r.families), routeLabel(r)])).toEqual([
      ['Opus', 'Bedrock: Plan usage limit, 7-day Opus window'],
      ['Sonnet and other models', 'Plan (Anthropic)'],
    ]);
  });
  it('sends unparked families to Bedrock while the breaker is open, until its retry', () => {
    const open = { ...closed, state: 'open', failures: 3, retry_at: '2026-11-25T08:01:00.000Z' };
    expect(routesNow({ parked: onPlan, breaker: open }, 'plan_first')).toEqual([
      { families: ['opus', 'sonnet', 'other'], provider: 'bedrock', reason: 'circuit_open', window: null, until: '2026-11-25T08:01:00.000Z' },
    ]);
  });
  it('keeps plan_first requests on the Plan without a Bedrock key, however parked or whatever the breaker, as the proxy does', () => {
    const p = park('usage_limit', 'five_hour', '2026-11-25T09:00:00.000Z');
    const noKey = { ...closed, state: 'open', failures: 3, retry_at: '2026-11-25T08:01:00.000Z', fallback_unavailable: 'no_bedrock_key' as const };
    const routes = routesNow({ parked: { opus: p, sonnet: null, other: p }, breaker: noKey }, 'plan_first');
    expect(routes).toEqual([{ families: ['opus', 'sonnet', 'other'], provider: 'plan', reason: 'no_bedrock_key', window: null, until: null }]);
    expect(routeLabel(routes[0]!)).toBe('Plan (no Bedrock key)');
    // With a Bedrock key (fallback_unavailable null), the same park goes to Bedrock.
    expect(routesNow({ parked: { opus: p, sonnet: p, other: p }, breaker: { ...closed, fallback_unavailable: null } }, 'plan_first')[0]).toMatchObject({ provider: 'bedrock', reason: 'usage_limit' });
  });
  it('says bedrock_only requests are refused without a Bedrock key, and plan_only ones stay on the Plan', () => {
    const noKey = { ...closed, fallback_unavailable: 'no_bedrock_key' as const };
    const [refused] = routesNow({ parked: onPlan, breaker: noKey }, 'bedrock_only');
    expect(refused).toMatchObject({ provider: 'none', reason: 'no_bedrock_key' });
    expect(routeLabel(refused!)).toBe('Refused: bedrock_only without a Bedrock key');
    expect(routeLabel(routesNow({ parked: onPlan, breaker: noKey }, 'plan_only')[0]!)).toBe('Plan (Anthropic)');
  });
  it('follows the routing strategy when it is not plan_first', () => {
    const p = park('plan_threshold', 'five_hour', '2026-11-25T09:00:00.000Z');
    expect(routesNow({ parked: { opus: p, sonnet: p, other: p }, breaker: closed }, 'plan_only')[0]).toMatchObject({ provider: 'plan', reason: null });
    expect(routeLabel(routesNow({ parked: onPlan, breaker: closed }, 'bedrock_only')[0]!)).toBe('Bedrock (routing strategy)');
  });
});

describe('reasonLabel', () => {
  it('names each fallback reason, and Bedrock-only traffic', () => {
    expect(reasonLabel('plan_threshold')).toBe('Plan threshold');
    expect(reasonLabel('session_sticky')).toBe('Session kept on Bedrock');
    expect(reasonLabel(null)).toBe('Bedrock routing (no fallback)');
    expect(reasonLabel('something_new')).toBe('something_new');
  });
});
