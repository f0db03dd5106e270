import { describe, expect, it } from 'vitest';
import { nextAction, type Action, type RoutingState } from '../../../src/proxy/routing.ts';

const rateLimited = { action: 'fallback', reason: 'rate_limited', countsForBreaker: true } as const;
const relayed = { action: 'relay' } as const;

describe('nextAction', () => {
  it.each<[string, RoutingState, Action]>([
    ['plan_first: Anthropic first', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true }, { do: 'try-plan' }],
    ['plan_first: Anthropic answered', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, plan: relayed }, { do: 'relay-plan' }],
    ['plan_first: a fallback-worthy answer, credential not known yet', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, plan: rateLimited }, { do: 'look-up-credential' }],
    ['plan_first: falls back with the reason', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, plan: rateLimited, credential: true }, { do: 'serve-bedrock', reason: 'rate_limited' }],
    ['plan_first: no Bedrock key: Anthropic’s answer as it was, and why', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, plan: rateLimited, credential: false }, { do: 'relay-plan', unavailable: 'no_bedrock_key' }],
    ['plan_first: no mapping for the model: Anthropic’s answer as it was, and why', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: false, plan: rateLimited, credential: true }, { do: 'relay-plan', unavailable: 'no_mapping' }],
    ['plan_first: neither: the missing key is named first', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: false, plan: rateLimited, credential: false }, { do: 'relay-plan', unavailable: 'no_bedrock_key' }],
    ['plan_first: open breaker, no mapping for the model: Anthropic it is', { strategy: 'plan_first', endpoint: 'messages', breaker: 'skip', mapped: false, credential: true }, { do: 'try-plan' }],
    ['plan_first: parked, no mapping for the model: Anthropic it is', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: false, parked: 'usage_limit', credential: true }, { do: 'try-plan' }],
    ['plan_first: the client left', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, plan: rateLimited, clientGone: true }, { do: 'relay-plan' }],
    ['plan_first: probing breaker tries Anthropic', { strategy: 'plan_first', endpoint: 'messages', breaker: 'probe', mapped: true }, { do: 'try-plan' }],
    ['plan_first: open breaker looks for a credential', { strategy: 'plan_first', endpoint: 'messages', breaker: 'skip', mapped: true }, { do: 'look-up-credential' }],
    ['plan_first: open breaker goes straight to Bedrock', { strategy: 'plan_first', endpoint: 'messages', breaker: 'skip', mapped: true, credential: true }, { do: 'serve-bedrock', reason: 'circuit_open' }],
    ['plan_first: open breaker, no Bedrock key: Anthropic it is', { strategy: 'plan_first', endpoint: 'messages', breaker: 'skip', mapped: true, credential: false }, { do: 'try-plan' }],
    ['plan_first: a parked Plan window looks for a credential', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, parked: 'plan_threshold' }, { do: 'look-up-credential' }],
    ['plan_first: a parked Plan window goes to Bedrock with its reason', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, parked: 'usage_limit', credential: true }, { do: 'serve-bedrock', reason: 'usage_limit' }],
    ['plan_first: the park wins over an open breaker (it says why)', { strategy: 'plan_first', endpoint: 'messages', breaker: 'skip', mapped: true, parked: 'plan_threshold', credential: true }, { do: 'serve-bedrock', reason: 'plan_threshold' }],
    ['plan_first: parked but no Bedrock key: Anthropic it is', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, parked: 'plan_threshold', credential: false }, { do: 'try-plan' }],
    ['plan_first: a session warm on Bedrock stays there', { strategy: 'plan_first', endpoint: 'messages', breaker: 'try', mapped: true, sessionOnBedrock: true, credential: true }, { do: 'serve-bedrock', reason: 'session_sticky' }],
    ['plan_only ignores a parked window', { strategy: 'plan_only', endpoint: 'messages', breaker: 'try', mapped: true, parked: 'usage_limit' }, { do: 'try-plan' }],
    ['count_tokens ignores a parked window', { strategy: 'plan_first', endpoint: 'count_tokens', breaker: 'try', mapped: true, parked: 'usage_limit' }, { do: 'try-plan' }],
    ['plan_first count_tokens never falls back', { strategy: 'plan_first', endpoint: 'count_tokens', breaker: 'try', mapped: true, plan: rateLimited }, { do: 'relay-plan' }],
    ['plan_only never falls back', { strategy: 'plan_only', endpoint: 'messages', breaker: 'try', mapped: true, plan: rateLimited }, { do: 'relay-plan' }],
    ['bedrock_only: credential first', { strategy: 'bedrock_only', endpoint: 'messages', breaker: 'try', mapped: true }, { do: 'look-up-credential' }],
    ['bedrock_only: Bedrock, not a fallback', { strategy: 'bedrock_only', endpoint: 'messages', breaker: 'try', mapped: true, credential: true }, { do: 'serve-bedrock', reason: null }],
    ['bedrock_only without a Bedrock key: 403', { strategy: 'bedrock_only', endpoint: 'messages', breaker: 'try', mapped: true, credential: false }, { do: 'refuse', code: 'PROXY_NO_BEDROCK_KEY' }],
    ['bedrock_only, no mapping for the model: the proxy’s 400', { strategy: 'bedrock_only', endpoint: 'messages', breaker: 'try', mapped: false, credential: true }, { do: 'refuse', code: 'BEDROCK_MODEL_UNKNOWN' }],
    ['bedrock_only count_tokens: Bedrock counts', { strategy: 'bedrock_only', endpoint: 'count_tokens', breaker: 'try', mapped: true, credential: true }, { do: 'count-on-bedrock' }],
    ['bedrock_only count_tokens without a key: the 404 Claude Code estimates from', { strategy: 'bedrock_only', endpoint: 'count_tokens', breaker: 'try', mapped: true, credential: false }, { do: 'refuse', code: 'PROXY_COUNT_TOKENS_UNAVAILABLE' }],
  ])('%s', (_name, state, action) => {
    expect(nextAction(state)).toEqual(action);
  });
});
