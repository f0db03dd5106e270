import { describe, expect, it } from 'vitest';
import { changedFields } from '../src/lib/audit.ts';

describe('changedFields', () => {
  it('names the fields a change touched', () => {
    expect(changedFields({ name: 'a', status: 'active', n: 1 }, { name: 'b', status: 'active', n: 1 })).toEqual(['name']);
    expect(changedFields(null, { name: 'a' })).toEqual(['name']);
    expect(changedFields({ routing_strategy: 'plan_first', budget: null }, null)).toEqual(['budget', 'routing_strategy']);
    expect(changedFields({ geographies: ['us'] }, { geographies: ['us', 'eu'] })).toEqual(['geographies']);
  });
});
