import { describe, expect, it } from 'vitest';
import { createUserLimiter, userLimitError } from '../../../src/proxy/user-limits.ts';

function setup() {
  let clock = 1_000_000;
  const limiter = createUserLimiter({ now: () => clock });
  return { limiter, advance: (ms: number) => (clock += ms) };
}

describe('per-user limits', () => {
  it('admits anyone without limits, and never counts them', () => {
    const { limiter } = setup();
    for (let i = 0; i < 1000; i++) expect(limiter.enter('u', { maxRequestsPerMinute: null, maxInFlight: null }).admitted).toBe(true);
  });

  it('allows at most N requests in any 60-second window, and says when the next one fits', () => {
    const { limiter, advance } = setup();
    const limits = { maxRequestsPerMinute: 3, maxInFlight: null };
    for (let i = 0; i < 3; i++) {
      const v = limiter.enter('u', limits);
      expect(v.admitted).toBe(true);
      if (v.admitted) v.release();
      advance(10_000);
    }
    // t = 30 s: the first admission (t = 0) leaves the window at t = 60 s
    expect(limiter.enter('u', limits)).toEqual({ admitted: false, limit: 'requests_per_minute', max: 3, retryAfterSeconds: 30 });
    expect(limiter.enter('someone-else', limits).admitted).toBe(true);
    advance(30_000);
    expect(limiter.enter('u', limits).admitted).toBe(true);
    expect(limiter.enter('u', limits)).toMatchObject({ admitted: false, retryAfterSeconds: 10 });
  });

  it('allows at most N requests at once; a finished one makes room (released once only)', () => {
    const { limiter } = setup();
    const limits = { maxRequestsPerMinute: null, maxInFlight: 2 };
    const a = limiter.enter('u', limits);
    const b = limiter.enter('u', limits);
    expect([a.admitted, b.admitted]).toEqual([true, true]);
    expect(limiter.enter('u', limits)).toEqual({ admitted: false, limit: 'in_flight', max: 2, retryAfterSeconds: 1 });
    if (a.admitted) {
      a.release();
      a.release();
    }
    const c = limiter.enter('u', limits);
    expect(c.admitted).toBe(true);
    expect(limiter.enter('u', limits).admitted).toBe(false);
  });

  it("answers Anthropic's 429 with retry-after", () => {
    const error = userLimitError({ admitted: false, limit: 'requests_per_minute', max: 60, retryAfterSeconds: 7 });
    expect(error).toMatchObject({ status: 429, anthropicType: 'rate_limit_error', code: 'PROXY_USER_LIMIT', headers: { 'retry-after': '7' } });
    expect(error.message).toBe('This user may make at most 60 requests per minute through the proxy; retry in 7 s');
  });
});
