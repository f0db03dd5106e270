import { describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { parseBetaHeader } from '../../../src/bedrock/betas.ts';
import { buildMessagesRequest } from '../../../src/bedrock/messages.ts';
import { messagesRuleViolations } from '../../fakes/bedrock.ts';
import { readFixture } from './fixtures.ts';

const request: AnthropicRequest = {
  model: 'claude-opus-5-5',
  max_tokens: 100,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
  context_management: { edits: [{ type: 'clear_thinking_20251015' }] },
};

describe('buildMessagesRequest', () => {
  it('sets the model and the body version for bedrock-runtime; what InvokeModel refuses goes, each beta with its field', () => {
    const built = buildMessagesRequest(request, {
      modelId: 'us.anthropic.claude-opus-5-5',
      betas: ['interleaved-thinking-2025-05-14', 'claude-code-20250219', 'context-management-2025-06-27'],
      host: 'runtime',
    });
    expect(built.body).toEqual({ model: 'us.anthropic.claude-opus-5-5', max_tokens: 100, stream: true, messages: request.messages, anthropic_version: 'bedrock-2023-05-31' });
    // context_management held only a clear_thinking edit, which Bedrock refuses: field and beta both go.
    expect(built.headers).toEqual({ 'anthropic-beta': 'interleaved-thinking-2025-05-14' });
    expect(built.droppedBetas).toEqual(['claude-code-20250219', 'context-management-2025-06-27']);
  });

  it('sends the version as a header to bedrock-mantle', () => {
    const built = buildMessagesRequest(request, { modelId: 'anthropic.claude-opus-5-5', host: 'mantle' });
    expect(built.body).toEqual({ model: 'anthropic.claude-opus-5-5', max_tokens: 100, stream: true, messages: request.messages });
    expect(built.headers).toEqual({ 'anthropic-version': '2023-06-01' });
  });

  it("turns Claude Code's captured turns into requests the endpoint accepts", () => {
    const headers = readFixture<{ headers: Record<string, string> }>('claude-code/claude-code-request-headers.json').headers;
    const turn1 = readFixture<AnthropicRequest>('claude-code/claude-code-request.json');
    const betas = parseBetaHeader(headers['anthropic-beta']);
    const built = buildMessagesRequest(turn1, { modelId: 'us.anthropic.claude-opus-5-5', betas, host: 'runtime' });
    expect(messagesRuleViolations(built.body, built.headers['anthropic-beta'])).toEqual([]);
    // The mid-conversation system message stays where it was (the endpoint accepts the role), minus its per-turn output_config.
    expect(built.body.messages).toEqual([turn1.messages[0], { role: 'system', content: turn1.messages[1]!.content }]);
    expect(messagesRuleViolations({ ...turn1, anthropic_version: 'bedrock-2023-05-31' }, headers['anthropic-beta'])).not.toEqual([]);
  });
});
