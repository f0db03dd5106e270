import { describe, expect, it } from 'vitest';
import type { UnifiedLimits, WindowReading } from '../../../src/anthropic/unified-limits.ts';
import { modelFamily, parkFor, type Park, type PlanPolicy } from '../../../src/proxy/plan-window-policy.ts';

const OBSERVED = 1_780_000_000_000;
const NOW = OBSERVED + 60_000;
const RESET_5H = 1_780_010_000; // Unix seconds, after NOW
const RESET_7D = 1_780_300_000;
const PAST = 1_779_999_000; // before NOW

const stay: PlanPolicy = { threshold: 0.98, overage: 'stay' };
const move: PlanPolicy = { threshold: 0.98, overage: 'move' };
const SONNET = 'claude-sonnet-4-5-20250929';
const OPUS = 'claude-opus-4-5-20251101';
const HAIKU = 'claude-haiku-4-5-20251001';

function w(utilization: number | null, resetsAt: number | null): WindowReading {
  return { utilization, resetsAt, surpassedThreshold: null };
}
function limits(overrides: Partial<UnifiedLimits> = {}): UnifiedLimits {
  return { status: 'allowed', claim: null, resetsAt: null, windows: {}, overageStatus: null, fallback: null, ...overrides };
}

describe('parkFor', () => {
  it.each<[string, UnifiedLimits, PlanPolicy, string, Park | null]>([
    ['below the threshold: no park', limits({ windows: { five_hour: w(0.97, RESET_5H), seven_day: w(0.5, RESET_7D) } }), stay, SONNET, null],
    ['5h at the threshold parks until its reset', limits({ windows: { five_hour: w(0.98, RESET_5H) } }), stay, SONNET, { reason: 'plan_threshold', window: 'five_hour', until: RESET_5H * 1000 }],
    ['the later reset wins (7d over 5h)', limits({ windows: { five_hour: w(0.99, RESET_5H), seven_day: w(0.98, RESET_7D) } }), stay, SONNET, { reason: 'plan_threshold', window: 'seven_day', until: RESET_7D * 1000 }],
    ['the later reset wins (5h over 7d)', limits({ windows: { five_hour: w(0.99, RESET_7D), seven_day: w(0.98, RESET_5H) } }), stay, SONNET, { reason: 'plan_threshold', window: 'five_hour', until: RESET_7D * 1000 }],
    ['rejected on seven_day parks until its reset', limits({ status: 'rejected', claim: 'seven_day', resetsAt: RESET_7D }), stay, SONNET, { reason: 'usage_limit', window: 'seven_day', until: RESET_7D * 1000 }],
    ['rejected takes the claimed window’s reset when the top one is missing', limits({ status: 'rejected', claim: 'seven_day', windows: { seven_day: w(1, RESET_7D) } }), stay, SONNET, { reason: 'usage_limit', window: 'seven_day', until: RESET_7D * 1000 }],
    ['rejected without a claim or reset: five_hour, 5 minutes after the reading', limits({ status: 'rejected' }), stay, SONNET, { reason: 'usage_limit', window: 'five_hour', until: OBSERVED + 300_000 }],
    ['a threshold window whose reset passed no longer parks', limits({ windows: { five_hour: w(1, PAST) } }), stay, SONNET, null],
    ['a rejection whose reset passed no longer parks', limits({ status: 'rejected', claim: 'five_hour', resetsAt: PAST }), stay, SONNET, null],
    ['seven_day_opus over the threshold parks opus', limits({ windows: { seven_day_opus: w(0.99, RESET_7D) } }), stay, OPUS, { reason: 'plan_threshold', window: 'seven_day_opus', until: RESET_7D * 1000 }],
    ['seven_day_opus does not park sonnet', limits({ windows: { seven_day_opus: w(0.99, RESET_7D) } }), stay, SONNET, null],
    ['seven_day_opus does not park haiku', limits({ windows: { seven_day_opus: w(0.99, RESET_7D) } }), stay, HAIKU, null],
    ['seven_day_sonnet over the threshold parks sonnet', limits({ windows: { seven_day_sonnet: w(1, RESET_7D) } }), stay, SONNET, { reason: 'plan_threshold', window: 'seven_day_sonnet', until: RESET_7D * 1000 }],
    ['seven_day_sonnet does not park opus', limits({ windows: { seven_day_sonnet: w(1, RESET_7D) } }), stay, OPUS, null],
    ['seven_day_sonnet does not park haiku', limits({ windows: { seven_day_sonnet: w(1, RESET_7D) } }), stay, HAIKU, null],
    ['rejected on seven_day_opus does not park sonnet', limits({ status: 'rejected', claim: 'seven_day_opus', resetsAt: RESET_7D }), stay, SONNET, null],
    ['rejected on seven_day_opus parks opus', limits({ status: 'rejected', claim: 'seven_day_opus', resetsAt: RESET_7D }), stay, OPUS, { reason: 'usage_limit', window: 'seven_day_opus', until: RESET_7D * 1000 }],
    ['overage available + stay: never parks, even rejected and over', limits({ status: 'rejected', claim: 'five_hour', resetsAt: RESET_5H, overageStatus: 'allowed', windows: { five_hour: w(1, RESET_5H) } }), stay, SONNET, null],
    ['overage allowed_warning + stay: never parks', limits({ overageStatus: 'allowed_warning', windows: { seven_day: w(0.99, RESET_7D) } }), stay, SONNET, null],
    ['overage available + move: parks', limits({ overageStatus: 'allowed', windows: { five_hour: w(0.99, RESET_5H) } }), move, SONNET, { reason: 'plan_threshold', window: 'five_hour', until: RESET_5H * 1000 }],
    ['overage rejected + stay: parks', limits({ status: 'rejected', claim: 'five_hour', resetsAt: RESET_5H, overageStatus: 'rejected' }), stay, SONNET, { reason: 'usage_limit', window: 'five_hour', until: RESET_5H * 1000 }],
    ['the overage window’s own utilization never parks', limits({ windows: { overage: w(1, RESET_7D) } }), move, SONNET, null],
    ['allowed_warning with low utilization: a warning is not acted on', limits({ status: 'allowed_warning', claim: 'five_hour', resetsAt: RESET_5H, windows: { five_hour: { utilization: 0.8, resetsAt: RESET_5H, surpassedThreshold: 0.75 } } }), stay, SONNET, null],
    ['a window without utilization does not park', limits({ windows: { five_hour: w(null, RESET_5H) } }), stay, SONNET, null],
  ])('%s', (_name, input, policy, model, expected) => {
    expect(parkFor(input, OBSERVED, policy, model, NOW)).toEqual(expected);
  });

  it('an unknown reset parks for 5 minutes after the reading, then not', () => {
    const input = limits({ windows: { five_hour: w(0.99, null) } });
    expect(parkFor(input, OBSERVED, stay, SONNET, OBSERVED + 299_999)).toEqual({ reason: 'plan_threshold', window: 'five_hour', until: OBSERVED + 300_000 });
    expect(parkFor(input, OBSERVED, stay, SONNET, OBSERVED + 300_000)).toBeNull();
  });
});

describe('modelFamily', () => {
  it.each<[string, 'opus' | 'sonnet' | null]>([
    ['claude-opus-4-5-20251101', 'opus'],
    ['claude-3-opus-20240229', 'opus'],
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', 'opus'],
    ['claude-sonnet-4-5-20250929', 'sonnet'],
    ['Claude-Sonnet-4', 'sonnet'],
    ['claude-haiku-4-5-20251001', null],
    ['', null],
  ])('%s → %s', (model, family) => {
    expect(modelFamily(model)).toBe(family);
  });
});
