import { describe, expect, it } from 'vitest';
import { breakerLabel } from '../src/lib/labels.ts';

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
