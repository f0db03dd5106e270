import { describe, expect, it } from 'vitest';
import { createInFlight } from '../../../src/proxy/in-flight.ts';

describe('in-flight upstream requests', () => {
  it('admits up to the cap, then refuses until a slot is given back', () => {
    const inFlight = createInFlight(2);
    const a = inFlight.enter(() => {});
    const b = inFlight.enter(() => {});
    expect(a).toBeTypeOf('function');
    expect(b).toBeTypeOf('function');
    expect(inFlight.enter(() => {})).toBeNull();
    expect(inFlight.size).toBe(2);
    a!();
    a!(); // giving a slot back twice frees it only once
    expect(inFlight.size).toBe(1);
    expect(inFlight.enter(() => {})).toBeTypeOf('function');
  });

  it('stops every request still in flight, even when one of them throws', () => {
    const inFlight = createInFlight(10);
    const stopped: number[] = [];
    inFlight.enter(() => stopped.push(1));
    inFlight.enter(() => {
      throw new Error('boom');
    });
    const leave = inFlight.enter(() => stopped.push(3))!;
    leave();
    inFlight.enter(() => stopped.push(4));
    expect(inFlight.stopAll()).toBe(3);
    expect(stopped).toEqual([1, 4]);
  });
});
