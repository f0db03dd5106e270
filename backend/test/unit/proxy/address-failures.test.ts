import { describe, expect, it } from 'vitest';
import { createAddressFailures } from '../../../src/proxy/address-failures.ts';

describe('address failures', () => {
  it('lets an address fail `max` times in a minute, then makes it wait out the minute', () => {
    let t = 1_000_000;
    const limiter = createAddressFailures({ max: 3, now: () => t });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a')).toBe(0);
      limiter.failed('a');
    }
    expect(limiter.retryAfter('a')).toBe(60);
    expect(limiter.retryAfter('b')).toBe(0); // another address is not affected
    t += 59_500;
    expect(limiter.retryAfter('a')).toBe(1);
    t += 500;
    expect(limiter.retryAfter('a')).toBe(0); // a new window
    limiter.failed('a');
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('forgets the oldest addresses past its bound', () => {
    const limiter = createAddressFailures({ max: 1, maxEntries: 2, now: () => 0 });
    limiter.failed('a');
    limiter.failed('b');
    limiter.failed('c');
    expect(limiter.retryAfter('a')).toBe(0);
    expect(limiter.retryAfter('b')).toBe(60);
    expect(limiter.retryAfter('c')).toBe(60);
  });
});
