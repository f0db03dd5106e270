import { describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../../src/bedrock/anthropic-wire.ts';
import { buildMessagesRequest } from '../../../src/bedrock/messages.ts';

const request: AnthropicRequest = {
  model: 'claude-opus-5-5',
  max_tokens: 100,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
  context_management: { edits: [{ type: 'clear_thinking_20251015' }] },
};

describe('buildMessagesRequest', () => {
  it('changes only the model and adds the body version for bedrock-runtime', () => {
    const built = buildMessagesRequest(request, { modelId: 'us.anthropic.claude-opus-5-5', betas: ['interleaved-thinking-2025-05-14', 'claude-code-20250219'], host: 'runtime' });
    expect(built.body).toEqual({ ...request, model: 'us.anthropic.claude-opus-5-5', anthropic_version: 'bedrock-2023-05-31' });
    expect(built.headers).toEqual({ 'anthropic-beta': 'interleaved-thinking-2025-05-14' });
    expect(built.droppedBetas).toEqual(['claude-code-20250219']);
  });

  it('sends the version as a header to bedrock-mantle', () => {
    const built = buildMessagesRequest(request, { modelId: 'anthropic.claude-opus-5-5', host: 'mantle' });
    expect(built.body).toEqual({ ...request, model: 'anthropic.claude-opus-5-5' });
    expect(built.headers).toEqual({ 'anthropic-version': '2023-06-01' });
  });
});
