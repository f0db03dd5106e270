import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { budgetLimitHeaders, isWarning, readUnifiedLimits, type UnifiedLimits } from '../../../src/anthropic/unified-limits.ts';

const P = 'anthropic-ratelimit-unified-';

function limits(overrides: Partial<UnifiedLimits> = {}): UnifiedLimits {
  return { status: 'allowed', claim: null, resetsAt: null, windows: {}, overageStatus: null, fallback: null, ...overrides };
}

describe('readUnifiedLimits', () => {
  it('parses a full header set', () => {
    const headers: IncomingHttpHeaders = {
      [`${P}status`]: 'allowed_warning',
      [`${P}5h-utilization`]: '0.91',
      [`${P}5h-reset`]: '1780000000',
      [`${P}5h-surpassed-threshold`]: '0.9',
      [`${P}7d-utilization`]: '0.42',
      [`${P}7d-reset`]: '1780500000',
      [`${P}representative-claim`]: 'five_hour',
      [`${P}reset`]: '1780000000',
      [`${P}overage-status`]: 'rejected',
      [`${P}fallback`]: 'available',
      'content-type': 'application/json',
    };
    expect(readUnifiedLimits(headers)).toEqual({
      status: 'allowed_warning',
      claim: 'five_hour',
      resetsAt: 1_780_000_000,
      windows: {
        five_hour: { utilization: 0.91, resetsAt: 1_780_000_000, surpassedThreshold: 0.9 },
        seven_day: { utilization: 0.42, resetsAt: 1_780_500_000, surpassedThreshold: null },
      },
      overageStatus: 'rejected',
      fallback: 'available',
    });
  });

  it('is null without a status header (an API-key answer)', () => {
    expect(readUnifiedLimits({ [`${P}5h-utilization`]: '0.5', 'retry-after': '20' })).toBeNull();
  });

  it('is null for an unknown status', () => {
    expect(readUnifiedLimits({ [`${P}status`]: 'throttled', [`${P}5h-utilization`]: '0.5' })).toBeNull();
  });

  it.each<[string, IncomingHttpHeaders, UnifiedLimits['windows']]>([
    ['non-numeric utilization and reset', { [`${P}5h-utilization`]: 'abc', [`${P}5h-reset`]: 'abc', [`${P}5h-surpassed-threshold`]: 'abc' }, {}],
    ['negative utilization and reset', { [`${P}5h-utilization`]: '-1', [`${P}5h-reset`]: '-1', [`${P}5h-surpassed-threshold`]: '-1' }, {}],
    ['an empty reset', { [`${P}7d-reset`]: '' }, {}],
    ['a blank utilization and threshold (not 0)', { [`${P}5h-utilization`]: '', [`${P}5h-surpassed-threshold`]: ' ' }, {}],
    ['garbage beside a valid field keeps the valid one', { [`${P}7d-utilization`]: '0.3', [`${P}7d-reset`]: 'abc' }, { seven_day: { utilization: 0.3, resetsAt: null, surpassedThreshold: null } }],
  ])('garbage numbers are null fields: %s', (_name, extra, windows) => {
    expect(readUnifiedLimits({ [`${P}status`]: 'allowed', [`${P}reset`]: 'abc', ...extra })).toEqual(limits({ windows }));
  });

  it('an unknown representative claim is null', () => {
    expect(readUnifiedLimits({ [`${P}status`]: 'rejected', [`${P}representative-claim`]: 'monthly' })?.claim).toBeNull();
  });

  it('an unknown overage status is null', () => {
    expect(readUnifiedLimits({ [`${P}status`]: 'allowed', [`${P}overage-status`]: 'maybe' })?.overageStatus).toBeNull();
  });

  it('reads the family and overage windows', () => {
    const read = readUnifiedLimits({
      [`${P}status`]: 'allowed',
      [`${P}7d_opus-utilization`]: '0.7',
      [`${P}7d_sonnet-reset`]: '1780600000',
      [`${P}overage-surpassed-threshold`]: '0.75',
    });
    expect(read?.windows).toEqual({
      seven_day_opus: { utilization: 0.7, resetsAt: null, surpassedThreshold: null },
      seven_day_sonnet: { utilization: null, resetsAt: 1_780_600_000, surpassedThreshold: null },
      overage: { utilization: null, resetsAt: null, surpassedThreshold: 0.75 },
    });
  });

  it('repeated headers (arrays) use the first value', () => {
    const read = readUnifiedLimits({
      [`${P}status`]: ['rejected', 'allowed'],
      [`${P}5h-utilization`]: ['1', '0.2'],
      [`${P}representative-claim`]: ['seven_day', 'five_hour'],
    });
    expect(read).toEqual(limits({ status: 'rejected', claim: 'seven_day', windows: { five_hour: { utilization: 1, resetsAt: null, surpassedThreshold: null } } }));
  });
});

describe('isWarning', () => {
  it.each<[string, UnifiedLimits, boolean]>([
    ['allowed_warning status', limits({ status: 'allowed_warning' }), true],
    ['a surpassed threshold on any window', limits({ windows: { seven_day: { utilization: 0.8, resetsAt: null, surpassedThreshold: 0.75 } } }), true],
    ['allowed with no threshold crossed', limits({ windows: { five_hour: { utilization: 0.99, resetsAt: 1, surpassedThreshold: null } } }), false],
    ['rejected without thresholds', limits({ status: 'rejected' }), false],
  ])('%s → %s', (_name, input, expected) => {
    expect(isWarning(input)).toBe(expected);
  });
});

describe('budgetLimitHeaders', () => {
  const resetsAt = new Date(1_780_000_000_999);

  it.each<[number, string, string | undefined]>([
    [0, 'allowed', undefined],
    [0.74, 'allowed', undefined],
    [0.75, 'allowed_warning', '0.75'],
    [0.8, 'allowed_warning', '0.75'],
    [0.93, 'allowed_warning', '0.9'],
    [0.96, 'allowed_warning', '0.95'],
    // A served answer is never `rejected`, even past the budget (Claude Code would take it as a refusal).
    [1, 'allowed_warning', '0.95'],
    [1.3, 'allowed_warning', '0.95'],
  ])('used %s → status %s, surpassed %s', (used, status, surpassed) => {
    const headers = budgetLimitHeaders(used, resetsAt);
    expect(headers[`${P}status`]).toBe(status);
    expect(headers[`${P}overage-status`]).toBe(status);
    expect(headers[`${P}overage-utilization`]).toBe(String(used));
    expect(headers[`${P}overage-surpassed-threshold`]).toBe(surpassed);
    expect(Object.hasOwn(headers, `${P}overage-surpassed-threshold`)).toBe(surpassed !== undefined);
  });

  it('the reset is the Date floored to Unix seconds', () => {
    expect(budgetLimitHeaders(0.1, resetsAt)[`${P}overage-reset`]).toBe('1780000000');
  });

  it('rounds utilization to four decimals and never below 0', () => {
    expect(budgetLimitHeaders(0.123456, resetsAt)[`${P}overage-utilization`]).toBe('0.1235');
    expect(budgetLimitHeaders(-0.5, resetsAt)[`${P}overage-utilization`]).toBe('0');
  });

  it('round-trips through readUnifiedLimits as the overage window', () => {
    expect(readUnifiedLimits(budgetLimitHeaders(0.93, resetsAt))).toEqual(
      limits({
        status: 'allowed_warning',
        overageStatus: 'allowed_warning',
        windows: { overage: { utilization: 0.93, resetsAt: 1_780_000_000, surpassedThreshold: 0.9 } },
      }),
    );
  });
});
