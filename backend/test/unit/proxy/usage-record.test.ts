import { describe, expect, it } from 'vitest';
import { accessLineOf, usageEventOf, type RequestFacts } from '../../../src/proxy/usage-record.ts';
import { keyContext } from '../../support/key-context.ts';

const facts: RequestFacts = {
  requestId: 'req_1',
  occurredAt: new Date('2026-12-04T00:00:00Z'),
  key: keyContext({ userId: 'user-1' }),
  endpoint: 'messages',
  requestedModel: 'claude-opus-5-5',
  stream: true,
  provider: 'bedrock',
  fallbackReason: 'rate_limited',
  fallbackUnavailable: null,
  region: 'eu-west-1',
  budgetReservationId: 7,
  planLimits: null,
  providerSwitch: false,
  latencyMs: 120,
  ttfbMs: 30,
};
const usage = { inputTokens: 10, outputTokens: 20, cacheReadTokens: 30, cacheWrite5mTokens: 4, cacheWrite1hTokens: 5 };

describe('usageEventOf', () => {
  it('carries the request, the upstream’s tokens and the Bedrock region', () => {
    const event = usageEventOf(facts, { status: 200, outcome: 'completed', usage, servedModel: 'eu.anthropic.claude-opus-5-5', stopReason: 'end_turn', upstreamRequestId: 'abc' });
    expect(event).toMatchObject({
      requestId: 'req_1',
      userId: 'user-1',
      accessKeyId: 'key-1',
      provider: 'bedrock',
      isFallback: true,
      fallbackReason: 'rate_limited',
      servedModel: 'eu.anthropic.claude-opus-5-5',
      statusCode: 200,
      outcome: 'completed',
      errorCode: null,
      stopReason: 'end_turn',
      region: 'eu-west-1',
      budgetReservationId: 7,
      ...usage,
    });
  });

  it('counts no tokens for count_tokens, names no served model for a failure, and no region on the Plan path', () => {
    const counted = usageEventOf({ ...facts, endpoint: 'count_tokens', provider: 'plan', fallbackReason: null }, { status: 200, outcome: 'completed', usage });
    expect(counted).toMatchObject({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, region: null, isFallback: false, servedModel: 'claude-opus-5-5' });
    const failed = usageEventOf({ ...facts, provider: 'plan' }, { status: 529, outcome: 'upstream_error', errorType: 'overloaded_error', code: 'X' });
    expect(failed).toMatchObject({ servedModel: null, errorType: 'overloaded_error', errorCode: 'X', inputTokens: 0 });
  });

  it('carries what the Plan answer said of the windows, and whether the turn switched provider', () => {
    const planLimits = { status: 'allowed_warning', claim: 'five_hour', resetsAt: 1, overageStatus: null, fallback: null, windows: { five_hour: { utilization: 0.91, resetsAt: 1, surpassedThreshold: 0.9 }, seven_day: { utilization: 0.4, resetsAt: 2, surpassedThreshold: null } } } as const;
    const event = usageEventOf({ ...facts, provider: 'plan', fallbackReason: null, planLimits, providerSwitch: true }, { status: 200, outcome: 'completed', usage });
    expect(event).toMatchObject({ planStatus: 'allowed_warning', plan5hUtilization: 0.91, plan7dUtilization: 0.4, providerSwitch: true });
    expect(usageEventOf(facts, { status: 200, outcome: 'completed', usage })).toMatchObject({ planStatus: null, plan5hUtilization: null, providerSwitch: false });
  });

  it('gives the access line the event’s figures and never the key itself', () => {
    const line = accessLineOf(usageEventOf(facts, { status: 200, outcome: 'completed', usage }), facts.key.keyPrefix, 'Root=1-abc');
    expect(line).toMatchObject({ reqId: 'req_1', keyPrefix: 'ak_abcdefgh', provider: 'bedrock', fallback: 'rate_limited', cacheWriteTokens: 9, traceId: 'Root=1-abc' });
    expect(line.code).toBeUndefined();
    expect(line.fallbackUnavailable).toBeUndefined();
  });

  it('says why a fallback Anthropic’s answer called for could not happen, in the event and the access line', () => {
    const event = usageEventOf(
      { ...facts, provider: 'plan', fallbackReason: null, fallbackUnavailable: 'no_bedrock_key' },
      { status: 429, outcome: 'upstream_error', errorType: 'rate_limit_error' },
    );
    expect(event).toMatchObject({ provider: 'plan', isFallback: false, fallbackUnavailable: 'no_bedrock_key', errorCode: null, statusCode: 429 });
    expect(accessLineOf(event, facts.key.keyPrefix, undefined)).toMatchObject({ fallback: null, fallbackUnavailable: 'no_bedrock_key', status: 429 });
  });
});
