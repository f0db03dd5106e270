import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/anthropic/errors.ts';
import { classifyPlanFailure, classifyPlanStatus, type PlanVerdict } from '../../../src/proxy/plan-verdict.ts';

describe('classifyPlanStatus', () => {
  it.each<[string, number, Record<string, string>, PlanVerdict]>([
    ['a success is relayed', 200, {}, { action: 'relay' }],
    ['a short throttle falls back, breaker counting', 429, { 'retry-after': '20' }, { action: 'fallback', reason: 'rate_limited', countsForBreaker: true }],
    ['the Plan limit (unified status rejected) falls back without counting: the Plan window parks the key', 429, { 'anthropic-ratelimit-unified-status': 'rejected' }, { action: 'fallback', reason: 'usage_limit', countsForBreaker: false }],
    ['a 429 without unified headers is a throttle, however long its retry-after', 429, { 'retry-after': '7200' }, { action: 'fallback', reason: 'rate_limited', countsForBreaker: true }],
    ['a 429 whose unified status still allows is a throttle', 429, { 'anthropic-ratelimit-unified-status': 'allowed' }, { action: 'fallback', reason: 'rate_limited', countsForBreaker: true }],
    ['overloaded falls back', 529, {}, { action: 'fallback', reason: 'overloaded', countsForBreaker: true }],
    ['any 5xx falls back', 503, {}, { action: 'fallback', reason: 'server_error', countsForBreaker: true }],
    ['a request error is relayed: Bedrock would say the same', 400, {}, { action: 'relay' }],
    ['an authentication error is relayed', 401, {}, { action: 'relay' }],
    ['too large is relayed', 413, {}, { action: 'relay' }],
  ])('%s', (_name, status, headers, verdict) => {
    expect(classifyPlanStatus(status, headers)).toEqual(verdict);
  });

  it('tells a first-byte timeout from a connection failure', () => {
    expect(classifyPlanFailure(new ProxyError('PLAN_FIRST_BYTE_TIMEOUT', 504, 'timeout_error', 'x'))).toEqual({ action: 'fallback', reason: 'first_byte_timeout', countsForBreaker: true });
    expect(classifyPlanFailure(new ProxyError('PLAN_UNREACHABLE', 502, 'api_error', 'x'))).toEqual({ action: 'fallback', reason: 'connect_error', countsForBreaker: true });
  });
});
