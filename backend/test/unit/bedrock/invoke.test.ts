import { describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { parseBetaHeader } from '../../../src/bedrock/betas.ts';
import { BedrockTranslationError } from '../../../src/bedrock/errors.ts';
import { historyFor } from '../../../src/bedrock/thinking-provenance.ts';
import { buildInvokeBody } from '../../../src/bedrock/invoke.ts';
import { invokeRuleViolations } from '../../fakes/bedrock.ts';
import { readFixture } from './fixtures.ts';

interface Captured {
  headers: Record<string, string>;
  body: AnthropicRequest;
}
const turn1 = readFixture<AnthropicRequest>('claude-code/claude-code-request.json');
const turn1Headers = readFixture<{ headers: Record<string, string> }>('claude-code/claude-code-request-headers.json').headers;
const turn2 = readFixture<Captured>('claude-code/claude-code-request-turn2.json');
const bedrockCapture = readFixture<Captured>('bedrock/claude-code-bedrock-invoke-request.json');

const base: AnthropicRequest = { model: 'claude-opus-5-5', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'hi' }] };

describe('buildInvokeBody', () => {
  it("gives Claude Code's first turn the shape Claude Code itself sends to Bedrock InvokeModel", () => {
    const { body, removed, droppedBetas } = buildInvokeBody(turn1, { betas: parseBetaHeader(turn1Headers['anthropic-beta']) });
    // The capture differs from the first-party request only in the environment text, which names
    // the model id Claude Code was configured with.
    const expected = structuredClone(bedrockCapture.body) as AnthropicRequest;
    const systemMessage = expected.messages[1]!.content as unknown as Array<{ text: string }>;
    systemMessage[0]!.text = (turn1.messages[1]!.content as unknown as Array<{ text: string }>)[0]!.text;
    expect(body).toEqual(expected);
    expect(removed).toEqual(['context_management', 'messages[1].output_config']);
    expect(droppedBetas).toContain('effort-2025-11-24');
  });

  it.each([
    ['turn 1', turn1, turn1Headers['anthropic-beta']],
    ['turn 2 (thinking, tool_use, tool_result)', turn2.body, turn2.headers['anthropic-beta']],
    ["Claude Code's own Bedrock body", bedrockCapture.body, bedrockCapture.headers['anthropic-beta']],
  ])('produces a body Bedrock accepts from %s, once its history holds only what Bedrock can verify', (_name, request, header) => {
    const { body } = buildInvokeBody(historyFor(request, 'bedrock').request, { betas: parseBetaHeader(header) });
    expect(invokeRuleViolations(body)).toEqual([]);
  });

  it('keeps the thinking signature, tool ids and cache breakpoints of turn 2 byte for byte', () => {
    const { body } = buildInvokeBody(turn2.body, { betas: parseBetaHeader(turn2.headers['anthropic-beta']) });
    expect(body.messages).toEqual(turn2.body.messages.map(({ role, content }) => ({ role, content })));
    expect(body.system).toEqual(turn2.body.system);
    expect(body.tools).toEqual(turn2.body.tools);
  });

  it('does not modify the request it was given', () => {
    const request = structuredClone(turn1);
    buildInvokeBody(request, { betas: ['advanced-tool-use-2025-11-20'] });
    expect(request).toEqual(turn1);
  });

  it.each<[string, Partial<AnthropicRequest>, Record<string, unknown>, string[]]>([
    ['removes model and stream, adds the version', {}, { anthropic_version: 'bedrock-2023-05-31' }, []],
    ['passes unknown top-level fields', { future_field: { x: 1 } }, { future_field: { x: 1 } }, []],
    ['passes sampling and metadata', { temperature: 0.2, top_k: 5, metadata: { user_id: 'u' } }, { temperature: 0.2, top_k: 5, metadata: { user_id: 'u' } }, []],
    [
      'removes fields Bedrock rejects',
      { service_tier: 'auto', speed: 'fast', inference_geo: 'us', diagnostics: {}, container: 'c' },
      {},
      ['service_tier', 'speed', 'inference_geo', 'diagnostics', 'container'],
    ],
    [
      'keeps compaction edits only',
      { context_management: { edits: [{ type: 'clear_thinking_20251015' }, { type: 'compact_20260112', trigger: 1 }] } },
      { context_management: { edits: [{ type: 'compact_20260112', trigger: 1 }] } },
      ['context_management.edits[0]'],
    ],
    ['removes an empty mcp_servers', { mcp_servers: [] }, {}, []],
  ])('%s', (_name, extra, expected, removed) => {
    const result = buildInvokeBody({ ...base, ...extra });
    expect(result.body).toEqual({ max_tokens: 1024, messages: base.messages, anthropic_version: 'bedrock-2023-05-31', ...expected });
    expect(result.removed).toEqual(removed);
  });

  it('moves betas from the header and the body into anthropic_beta, filtered', () => {
    const result = buildInvokeBody({ ...base, anthropic_beta: ['context-1m-2025-08-07', 'bogus'] }, { betas: ['interleaved-thinking-2025-05-14', 'claude-code-20250219'] });
    expect(result.body.anthropic_beta).toEqual(['interleaved-thinking-2025-05-14', 'context-1m-2025-08-07']);
    expect(result.droppedBetas).toEqual(['claude-code-20250219', 'bogus']);
  });

  it('keeps the context-management beta when compaction edits stay', () => {
    const result = buildInvokeBody(
      { ...base, context_management: { edits: [{ type: 'compact_20260112' }] } },
      { betas: ['context-management-2025-06-27', 'compact-2026-01-12'] },
    );
    expect(result.body.anthropic_beta).toEqual(['context-management-2025-06-27', 'compact-2026-01-12']);
  });

  it('writes a top-level cache_control onto the last cacheable block', () => {
    const result = buildInvokeBody({
      ...base,
      cache_control: { type: 'ephemeral', ttl: '1h' },
      messages: [
        { role: 'user', content: 'question' },
        { role: 'assistant', content: [{ type: 'text', text: 'answer' }, { type: 'thinking', thinking: 't', signature: 's' }] },
      ],
    });
    expect(result.body.cache_control).toBeUndefined();
    expect(result.body.messages).toEqual([
      { role: 'user', content: 'question' },
      { role: 'assistant', content: [{ type: 'text', text: 'answer', cache_control: { type: 'ephemeral', ttl: '1h' } }, { type: 'thinking', thinking: 't', signature: 's' }] },
    ]);
  });

  it('turns string content into a text block to carry a top-level cache_control', () => {
    const result = buildInvokeBody({ ...base, cache_control: { type: 'ephemeral' } });
    expect(result.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }]);
  });

  it('strips cache_control.scope everywhere Bedrock would refuse it', () => {
    const scoped = { type: 'ephemeral', scope: 'global' } as never;
    const result = buildInvokeBody({
      ...base,
      system: [{ type: 'text', text: 's', cache_control: scoped }],
      tools: [{ name: 't', input_schema: { type: 'object' }, cache_control: scoped }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'q', cache_control: scoped }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 't', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'r', cache_control: scoped }] }] },
      ],
    });
    expect(result.removed).toEqual([
      'messages[0].content[0].cache_control.scope',
      'messages[2].content[0].content[0].cache_control.scope',
      'system[0].cache_control.scope',
      'tools[0].cache_control.scope',
    ]);
    expect(invokeRuleViolations(result.body)).toEqual([]);
  });

  it('removes tool fields Bedrock refuses, keeps defer_loading and typed tools', () => {
    const bash = { type: 'bash_20250124', name: 'bash' };
    const result = buildInvokeBody({
      ...base,
      tools: [
        { name: 'Read', input_schema: { type: 'object' }, defer_loading: true, eager_input_streaming: true, allowed_callers: ['direct'] },
        bash,
      ],
    });
    expect(result.body.tools).toEqual([{ name: 'Read', input_schema: { type: 'object' }, defer_loading: true }, bash]);
    expect(result.removed).toEqual(['tools[0].eager_input_streaming', 'tools[0].allowed_callers']);
  });

  it('rejects remote MCP servers with a 400 naming the field', () => {
    expect(() => buildInvokeBody({ ...base, mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'x' }] })).toThrow(
      expect.objectContaining({ name: 'BedrockTranslationError', status: 400, field: 'mcp_servers' }),
    );
  });

  it('rejects a body without messages', () => {
    expect(() => buildInvokeBody({ model: 'x' } as AnthropicRequest)).toThrow(BedrockTranslationError);
  });
});
