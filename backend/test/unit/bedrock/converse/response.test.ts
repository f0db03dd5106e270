import type { ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { translateConverseResponse } from '../../../../src/bedrock/converse/response.ts';

const redacted = new Uint8Array([0, 1, 2, 250, 251, 252]);

const response: ConverseResponse = {
  output: {
    message: {
      role: 'assistant',
      content: [
        { reasoningContent: { reasoningText: { text: 'I should read the file.', signature: 'c2lnLWJlZHJvY2s=' } } },
        { reasoningContent: { redactedContent: redacted } },
        { text: 'Reading it.' },
        { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'Read', input: { file_path: '/home/user/project/hello.txt' } } },
      ],
    },
  },
  stopReason: 'tool_use',
  usage: {
    inputTokens: 3,
    outputTokens: 96,
    totalTokens: 14203,
    cacheReadInputTokens: 12480,
    cacheWriteInputTokens: 1624,
    cacheDetails: [
      { ttl: '5m', inputTokens: 1200 },
      { ttl: '1h', inputTokens: 424 },
    ],
  },
  metrics: { latencyMs: 1800 },
};

describe('translateConverseResponse', () => {
  it('translates a thinking + text + tool use answer with cache usage', () => {
    const { message, usage } = translateConverseResponse(response, { model: 'claude-opus-5-5', messageId: 'msg_bdrk_01x' });
    expect(message).toEqual({
      id: 'msg_bdrk_01x',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-5-5',
      content: [
        // Marked as Bedrock's, so the proxy can tell who minted it when Claude Code sends it back.
        { type: 'thinking', thinking: 'I should read the file.', signature: 'ccproxy-bedrock:c2lnLWJlZHJvY2s=' },
        { type: 'redacted_thinking', data: `ccproxy-bedrock:${Buffer.from(redacted).toString('base64')}` },
        { type: 'text', text: 'Reading it.' },
        { type: 'tool_use', id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'Read', input: { file_path: '/home/user/project/hello.txt' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 3,
        output_tokens: 96,
        cache_creation_input_tokens: 1624,
        cache_read_input_tokens: 12480,
        cache_creation: { ephemeral_5m_input_tokens: 1200, ephemeral_1h_input_tokens: 424 },
      },
    });
    expect(usage).toEqual({ inputTokens: 3, outputTokens: 96, cacheReadTokens: 12480, cacheWrite5mTokens: 1200, cacheWrite1hTokens: 424 });
  });

  it('reads blobs given as base64 text (raw JSON instead of the SDK)', () => {
    const raw = { ...response, output: { message: { role: 'assistant', content: [{ reasoningContent: { redactedContent: 'AAEC+vv8' } }] } } } as unknown as ConverseResponse;
    expect(translateConverseResponse(raw, { model: 'm' }).message.content).toEqual([{ type: 'redacted_thinking', data: 'ccproxy-bedrock:AAEC+vv8' }]);
  });

  it('reports the matched stop sequence', () => {
    const { message } = translateConverseResponse(
      { ...response, stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: 'END' } },
      { model: 'm' },
    );
    expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });

  it('counts an unsplit cache write as 5-minute', () => {
    const { message, usage } = translateConverseResponse(
      { ...response, usage: { inputTokens: 1, outputTokens: 2, totalTokens: 303, cacheWriteInputTokens: 300 } },
      { model: 'm' },
    );
    expect(message.usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 0 });
    expect(usage).toEqual({ inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWrite5mTokens: 300, cacheWrite1hTokens: 0 });
  });

  it('maps citations content to a text block with citations', () => {
    const { message } = translateConverseResponse(
      {
        ...response,
        stopReason: 'end_turn',
        output: {
          message: {
            role: 'assistant',
            content: [
              {
                citationsContent: {
                  content: [{ text: 'Revenue grew 12%.' }],
                  citations: [{ title: 'Q3', sourceContent: [{ text: 'grew 12%' }], location: { documentPage: { documentIndex: 0, start: 3, end: 4 } } }],
                },
              },
            ],
          },
        },
      },
      { model: 'm' },
    );
    expect(message.content).toEqual([
      {
        type: 'text',
        text: 'Revenue grew 12%.',
        citations: [{ type: 'page_location', cited_text: 'grew 12%', document_index: 0, document_title: 'Q3', start_page_number: 3, end_page_number: 4 }],
      },
    ]);
  });

  it('gives a fresh msg_ id when none is given', () => {
    expect(translateConverseResponse(response, { model: 'm' }).message.id).toMatch(/^msg_bdrk_01[0-9A-Za-z]{22}$/);
  });

  it('refuses an answer block it cannot put in Anthropic terms', () => {
    const odd = { ...response, output: { message: { role: 'assistant', content: [{ image: { format: 'png', source: { bytes: new Uint8Array() } } }] } } } as ConverseResponse;
    expect(() => translateConverseResponse(odd, { model: 'm' })).toThrow(
      expect.objectContaining({ code: 'BEDROCK_BAD_RESPONSE', status: 502, anthropicType: 'api_error', field: 'output.message.content[0].image' }),
    );
  });
});
