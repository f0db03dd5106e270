import { describe, expect, it } from 'vitest';
import type { AnthropicMessageParam, AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { historyFor, markBedrock, markBedrockEvent, type Provider } from '../../../src/bedrock/thinking-provenance.ts';

const A = 'RXFBbnRocm9waWM='; // an Anthropic-minted signature (unmarked)
const B = markBedrock('QmVkcm9jaw=='); // a Bedrock-minted one, as the client echoes it
const thinking = (signature: string) => ({ type: 'thinking', thinking: 't', signature });
const toolUse = { type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} };
const toolResult: AnthropicMessageParam = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'x' }] };

function req(messages: AnthropicMessageParam[], extra: Partial<AnthropicRequest> = {}): AnthropicRequest {
  return { model: 'claude-opus-5-5', max_tokens: 10, messages, ...extra };
}
const user: AnthropicMessageParam = { role: 'user', content: 'hi' };
const assistant = (...content: Record<string, unknown>[]): AnthropicMessageParam => ({ role: 'assistant', content: content as AnthropicMessageParam['content'] });

describe('historyFor', () => {
  it.each<[string, Provider, AnthropicRequest, AnthropicMessageParam[] | 'same', boolean]>([
    ['own blocks only: the same request object', 'anthropic', req([user, assistant(thinking(A), { type: 'text', text: 'a' }), user]), 'same', false],
    ['Anthropic drops what Bedrock minted', 'anthropic', req([user, assistant(thinking(B), { type: 'text', text: 'a' }), user]), [user, assistant({ type: 'text', text: 'a' }), user], false],
    ['Bedrock gets its own unmarked, and not Anthropic’s', 'bedrock', req([user, assistant(thinking(B), thinking(A), { type: 'text', text: 'a' }), user]), [user, assistant(thinking('QmVkcm9jaw=='), { type: 'text', text: 'a' }), user], false],
    ['an empty signature verifies nowhere', 'anthropic', req([user, assistant(thinking(''), { type: 'text', text: 'a' }), user]), [user, assistant({ type: 'text', text: 'a' }), user], false],
    ['redacted thinking is bound the same way', 'bedrock', req([user, assistant({ type: 'redacted_thinking', data: markBedrock('cmVk') }, { type: 'redacted_thinking', data: 'cmVk' }, { type: 'text', text: 'a' }), user]), [user, assistant({ type: 'redacted_thinking', data: 'cmVk' }, { type: 'text', text: 'a' }), user], false],
    ['a turn of nothing but foreign thinking goes whole', 'anthropic', req([user, assistant(thinking(B)), user]), [user, user], false],
    ['enabled, tool results, lead removed: thinking off', 'anthropic', req([user, assistant(thinking(B), toolUse), toolResult], { thinking: { type: 'enabled', budget_tokens: 1024 } }), [user, assistant(toolUse), toolResult], true],
    ['adaptive, tool results, lead removed: thinking off', 'bedrock', req([user, assistant(thinking(A), toolUse), toolResult], { thinking: { type: 'adaptive' } }), [user, assistant(toolUse), toolResult], true],
    ['adaptive, the model chose not to think: unchanged', 'bedrock', req([user, assistant(toolUse), toolResult], { thinking: { type: 'adaptive' } }), 'same', false],
    ['enabled, answered turn without thinking (served with thinking off): off again', 'anthropic', req([user, assistant(toolUse), toolResult], { thinking: { type: 'enabled', budget_tokens: 1024 } }), [user, assistant(toolUse), toolResult], true],
    ['a new user turn: thinking stays', 'anthropic', req([user, assistant(thinking(B), toolUse), toolResult, assistant({ type: 'text', text: 'ok' }), user], { thinking: { type: 'enabled', budget_tokens: 1024 } }), [user, assistant(toolUse), toolResult, assistant({ type: 'text', text: 'ok' }), user], false],
    ['a system message after the tool results does not hide them', 'anthropic', req([user, assistant(thinking(B), toolUse), toolResult, { role: 'system', content: 'env' }], { thinking: { type: 'adaptive' } }), [user, assistant(toolUse), toolResult, { role: 'system', content: 'env' }], true],
  ])('%s', (_name, target, request, expected, thinkingOff) => {
    const before = structuredClone(request);
    const history = historyFor(request, target);
    if (expected === 'same') expect(history.request).toBe(request);
    else expect(history.request.messages).toEqual(expected);
    expect(history.thinkingOff).toBe(thinkingOff);
    expect(history.request.thinking === undefined).toBe(thinkingOff || request.thinking === undefined);
    expect(request).toEqual(before); // never modifies the client's request
  });

  it('turning thinking off takes the clear_thinking edits with it, and the field when none is left', () => {
    const request = req([user, assistant(thinking(B), toolUse), toolResult], {
      thinking: { type: 'adaptive' },
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    });
    expect(historyFor(request, 'anthropic').request.context_management).toBeUndefined();
    request.context_management = { edits: [{ type: 'clear_thinking_20251015' }, { type: 'compact_20260112' }] };
    expect(historyFor(request, 'anthropic').request.context_management).toEqual({ edits: [{ type: 'compact_20260112' }] });
  });
});

describe('markBedrockEvent', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown> | null]>([
    ['a signature delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'c2ln' } }, { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: markBedrock('c2ln') } }],
    ['a redacted block start', { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'cmVk' } }, { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: markBedrock('cmVk') } }],
    ['an empty thinking start: nothing to mark', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }, null],
    ['a text delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }, null],
  ])('%s', (_name, event, expected) => {
    expect(markBedrockEvent(event)).toEqual(expected);
  });
});
