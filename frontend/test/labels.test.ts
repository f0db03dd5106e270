import { describe, expect, it } from 'vitest';
import { breakerLabel, breakerStyle } from '../src/lib/labels.ts';

describe('breakerLabel', () => {
  it('says a key cannot go to Bedrock, whatever its state, when it has no Bedrock key (issue #17)', () => {
    expect(breakerLabel({ state: 'open', fallback_unavailable: 'no_bedrock_key' })).toBe('No Bedrock key');
    expect(breakerLabel({ state: 'closed', fallback_unavailable: 'no_bedrock_key' })).toBe('No Bedrock key');
  });
  it('names the usual states', () => {
    expect(breakerLabel({ state: 'open', fallback_unavailable: null })).toBe('Open (Bedrock)');
    expect(breakerLabel({ state: 'open' })).toBe('Open (Bedrock)');
    expect(breakerLabel({ state: 'closed', fallback_unavailable: null })).toBe('Closed (Anthropic first)');
    expect(breakerLabel({ state: 'half_open' })).toBe('half_open');
  });
});

describe('breakerStyle', () => {
  it('warns about a key without a Bedrock key even while its breaker is closed', () => {
    expect(breakerStyle({ state: 'closed', fallback_unavailable: 'no_bedrock_key' })).toContain('text-amber-800');
    expect(breakerStyle({ state: 'closed' })).toContain('text-emerald-700');
    expect(breakerStyle({ state: 'open', fallback_unavailable: null })).toContain('text-red-700');
  });
});
