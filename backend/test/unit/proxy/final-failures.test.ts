import { describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { ProxyError } from '../../../src/anthropic/errors.ts';
import { createFinalFailures } from '../../../src/proxy/final-failures.ts';

const streamed: AnthropicRequest = { model: 'claude-opus-5-5', max_tokens: 128000, stream: true, messages: [{ role: 'user', content: 'hi' }] };
// Claude Code's re-send: the same conversation, without streaming and with a smaller max_tokens.
const resend: AnthropicRequest = { ...streamed, stream: false, max_tokens: 64000 };
const error = new ProxyError('BEDROCK_THROTTLED', 429, 'rate_limit_error', 'Too many requests', { 'x-should-retry': 'false' });

describe('final failures', () => {
  it("hands the failure to the same key's re-send of the same conversation, once", () => {
    const memo = createFinalFailures();
    memo.remember('key-1', streamed, error);
    expect(memo.take('key-2', resend)).toBeUndefined();
    expect(memo.take('key-1', { ...resend, messages: [{ role: 'user', content: 'something else' }] })).toBeUndefined();
    expect(memo.take('key-1', { ...resend, model: 'claude-sonnet-5-5' })).toBeUndefined();
    expect(memo.take('key-1', resend)).toBe(error);
    expect(memo.take('key-1', resend)).toBeUndefined();
  });

  it('forgets it after the time to live', () => {
    let now = 1_000;
    const memo = createFinalFailures({ ttlMs: 30_000, now: () => now });
    memo.remember('key-1', streamed, error);
    now += 30_000;
    expect(memo.take('key-1', resend)).toBeUndefined();
  });
});
