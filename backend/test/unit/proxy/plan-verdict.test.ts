import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/anthropic/errors.ts';
import { classifyPlanFailure, classifyPlanStatus, type PlanVerdict } from '../../../src/proxy/plan-verdict.ts';

describe('classifyPlanStatus', () => {
  it.each<[string, number, Record<string, string>, string, PlanVerdict]>([
    ['a success is relayed', 200, {}, '', { action: 'relay' }],
    ['a short throttle falls back, breaker counting', 429, { 'retry-after': '20' }, 'Rate limited', { action: 'fallback', reason: 'rate_limited', openCircuit: false }],
    ['the plan window (unified status rejected) opens the breaker', 429, { 'anthropic-ratelimit-unified-status': 'rejected' }, '', { action: 'fallback', reason: 'usage_limit', openCircuit: true }],
    ['a retry-after of hours is the plan window', 429, { 'retry-after': '7200' }, '', { action: 'fallback', reason: 'usage_limit', openCircuit: true }],
    ['a "usage limit" message is the plan window', 429, {}, 'Claude usage limit reached', { action: 'fallback', reason: 'usage_limit', openCircuit: true }],
    ['overloaded falls back', 529, {}, '', { action: 'fallback', reason: 'overloaded', openCircuit: false }],
    ['any 5xx falls back', 503, {}, '', { action: 'fallback', reason: 'server_error', openCircuit: false }],
    ['a request error is relayed: Bedrock would say the same', 400, {}, '', { action: 'relay' }],
    ['an authentication error is relayed', 401, {}, '', { action: 'relay' }],
    ['too large is relayed', 413, {}, '', { action: 'relay' }],
  ])('%s', (_name, status, headers, body, verdict) => {
    expect(classifyPlanStatus(status, headers, body)).toEqual(verdict);
  });

  it('tells a first-byte timeout from a connection failure', () => {
    expect(classifyPlanFailure(new ProxyError('PLAN_FIRST_BYTE_TIMEOUT', 504, 'timeout_error', 'x'))).toEqual({ action: 'fallback', reason: 'first_byte_timeout', openCircuit: false });
    expect(classifyPlanFailure(new ProxyError('PLAN_UNREACHABLE', 502, 'api_error', 'x'))).toEqual({ action: 'fallback', reason: 'connect_error', openCircuit: false });
  });
});
