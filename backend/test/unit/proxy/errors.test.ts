import { describe, expect, it } from 'vitest';
import { proxyError, requestReadError } from '../../../src/proxy/errors.ts';

describe('the proxy error catalog', () => {
  it('fills the message and the retry headers from the details', () => {
    expect(proxyError('PROXY_USER_LIMIT', '5 requests at once', 3)).toMatchObject({
      code: 'PROXY_USER_LIMIT',
      status: 429,
      anthropicType: 'rate_limit_error',
      message: 'This user may make at most 5 requests at once through the proxy; retry in 3 s',
      headers: { 'retry-after': '3' },
    });
    expect(proxyError('BUDGET_MODEL_UNPRICED', 'us.anthropic.claude-opus-5-5')).toMatchObject({ status: 403, headers: { 'x-should-retry': 'false' } });
    expect(proxyError('PLAN_UNREACHABLE', ' (ECONNREFUSED)').message).toBe('Could not reach Anthropic (ECONNREFUSED)');
    // A final answer: Claude Code stops retrying on it.
    expect(proxyError('PROXY_KEY_UNKNOWN').headers).toEqual({ 'x-should-retry': 'false' });
    expect(proxyError('PROXY_MODEL_MISSING').headers).toEqual({});
  });

  it('marks every answer that would be the same on a retry as final (x-should-retry: false)', () => {
    for (const error of [
      proxyError('PROXY_KEY_UNKNOWN'),
      proxyError('BUDGET_EXCEEDED', 'over budget'),
      proxyError('BUDGET_MODEL_UNPRICED', 'us.anthropic.claude-opus-5-5'),
      proxyError('BEDROCK_MODEL_UNKNOWN', 'claude-imaginary-9'),
      proxyError('PROXY_NO_BEDROCK_KEY'),
    ]) {
      expect(error.headers['x-should-retry'], error.code).toBe('false');
    }
    expect(proxyError('BEDROCK_MODEL_UNKNOWN', ' claude-imaginary-9 ')).toMatchObject({
      status: 400,
      anthropicType: 'invalid_request_error',
      message: "model: 'claude-imaginary-9' has no Amazon Bedrock mapping; ask an administrator to add one",
    });
    // Waits and outages pass: a retry may well succeed.
    expect(proxyError('BUDGET_UNAVAILABLE').headers['x-should-retry']).toBeUndefined();
    expect(proxyError('PROXY_OVERLOADED', 10).headers['x-should-retry']).toBeUndefined();
  });

  it('tells Fastify’s read errors apart', () => {
    expect(requestReadError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 32 * 1024 * 1024)).toMatchObject({ status: 413, message: 'Request body exceeds the 32 MB limit' });
    expect(requestReadError({ statusCode: 415 })).toMatchObject({ code: 'PROXY_BAD_REQUEST', status: 415, anthropicType: 'invalid_request_error' });
    expect(requestReadError({ statusCode: 500 })).toMatchObject({ code: 'PROXY_INTERNAL', status: 500 });
  });
});
