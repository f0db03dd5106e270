/**
 * Generated Anthropic requests (seeded, reproducible) of the shapes Claude Code sends, with thinking
 * minted by either provider (a session that switched): every one, after `historyFor(…, 'bedrock')`,
 * must become a Converse request that Bedrock's rules accept — non-blank text, alternating
 * user/assistant roles starting with the user, tool results matching the previous turn's tool
 * uses, a toolConfig whenever tool blocks appear, at most four cache points, only Bedrock's own
 * thinking signatures, a leading thinking block where `enabled` thinking needs one.
 */

import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicMessageParam, AnthropicRequest } from '../../../../src/anthropic/wire.ts';
import { buildConverseRequest } from '../../../../src/bedrock/converse/request.ts';
import { BEDROCK_MARK, historyFor, markBedrock } from '../../../../src/bedrock/thinking-provenance.ts';
import { converseRuleViolations, converseWireBody } from '../../../fakes/bedrock.ts';
import { bedrockSignature } from '../../../fakes/thinking-rules.ts';
import { seededRandom } from '../../../support/seeded-random.ts';


const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
const TOOLS = ['Read', 'Bash', 'Edit', 'Write', 'Grep'];

function generate(seed: number): AnthropicRequest {
  const random = seededRandom(seed);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let breakpoints = 0;
  const maybeCache = <T extends object>(block: T): T => {
    if (breakpoints < 4 && chance(0.15)) {
      breakpoints++;
      return { ...block, cache_control: { type: 'ephemeral', ...(chance(0.3) ? { ttl: '1h' } : {}) } };
    }
    return block;
  };
  const text = (): AnthropicContentBlock => maybeCache({ type: 'text', text: `text ${Math.floor(random() * 1000)}` });
  /** Anthropic refuses blank-only turns, but a blank block beside others passes there and must not reach Converse. */
  const withBlank = (blocks: AnthropicContentBlock[]) => (chance(0.15) ? [...blocks, { type: 'text', text: ' ' }] : blocks);
  let toolId = 0;

  const system = chance(0.5) ? [maybeCache({ type: 'text', text: 'You are Claude Code.' }), maybeCache({ type: 'text', text: 'Be brief.' })] : chance(0.5) ? 'Be brief.' : undefined;
  const withTools = chance(0.7);
  const tools = withTools ? TOOLS.map((name) => maybeCache({ name, description: `${name} tool`, input_schema: { type: 'object', properties: {} } })) : undefined;

  const messages: AnthropicMessageParam[] = [];
  const turns = 1 + Math.floor(random() * 6);
  let pendingToolUses: string[] = [];
  for (let t = 0; t < turns; t++) {
    // user turn: tool results for the previous assistant turn, then maybe text or an image
    const user: AnthropicContentBlock[] = pendingToolUses.map((id) => {
      const content = pick<unknown>([
        'file contents',
        '',
        [{ type: 'text', text: 'line 1' }],
        [{ type: 'text', text: 'see image' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }],
      ]);
      return maybeCache({ type: 'tool_result', tool_use_id: id, content, ...(chance(0.2) ? { is_error: true } : {}) });
    });
    if (pendingToolUses.length === 0 || chance(0.3)) user.push(text());
    if (chance(0.1)) user.push({ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } });
    if (chance(0.2) && user.every((b) => b.type !== 'tool_result')) {
      // Claude Code sometimes splits one user turn in two consecutive messages
      messages.push({ role: 'user', content: [text()] });
    }
    messages.push({ role: 'user', content: chance(0.2) && pendingToolUses.length === 0 ? `plain ${t}` : withBlank(user) });
    pendingToolUses = [];
    if (t === 0 && chance(0.6)) messages.push({ role: 'system', content: [maybeCache({ type: 'text', text: '# Environment' })] });
    if (t === turns - 1 && !chance(0.2)) break;

    // assistant turn: thinking, text, tool uses
    const assistant: AnthropicContentBlock[] = [];
    // Which provider answered this turn: Bedrock's thinking reaches the client marked by the proxy.
    const minted = (value: string) => (chance(0.5) ? markBedrock(bedrockSignature(value)) : Buffer.from(`anthropic ${value}`).toString('base64'));
    if (chance(0.6)) assistant.push({ type: 'thinking', thinking: chance(0.5) ? '' : 'thinking…', signature: minted(`sig${seed}-${t}`) });
    if (chance(0.1)) assistant.push({ type: 'redacted_thinking', data: minted(`redacted ${seed}`) });
    if (chance(0.7)) assistant.push(text());
    const last = t === turns - 1;
    if (!last && chance(0.6)) {
      for (let n = 1 + Math.floor(random() * 2); n > 0; n--) {
        const id = `toolu_${seed}_${toolId++}`;
        pendingToolUses.push(id);
        assistant.push(maybeCache({ type: 'tool_use', id, name: pick(TOOLS), input: { path: `/tmp/${id}` } }));
      }
    }
    if (assistant.length === 0) assistant.push({ type: 'text', text: 'ok' });
    messages.push({ role: 'assistant', content: withBlank(assistant) });
    if (last) break;
  }
  if (pendingToolUses.length > 0) {
    messages.push({ role: 'user', content: pendingToolUses.map((id) => ({ type: 'tool_result', tool_use_id: id, content: 'done' })) });
  }

  return {
    model: 'claude-opus-5-5',
    max_tokens: 32000,
    stream: true,
    messages,
    ...(system ? { system } : {}),
    ...(tools ? { tools } : {}),
    ...(withTools && chance(0.3) ? { tool_choice: pick([{ type: 'auto' }, { type: 'any' }, { type: 'none' }, { type: 'tool', name: 'Read' }] as const) } : {}),
    ...(chance(0.5) ? { thinking: { type: 'enabled', budget_tokens: 31999 } } : {}),
    ...(breakpoints < 4 && chance(0.2) ? { cache_control: { type: 'ephemeral' as const } } : {}),
    ...(chance(0.3) ? { metadata: { user_id: 'u' } } : {}),
  };
}

describe('generated Claude Code-like requests', () => {
  it('all become Converse requests that Bedrock accepts (500 seeds)', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 500; seed++) {
      const request = historyFor(generate(seed), 'bedrock').request;
      const { input } = buildConverseRequest(request, { modelId: 'us.anthropic.claude-opus-5-5', betas: ['interleaved-thinking-2025-05-14'] });
      const problems = converseRuleViolations(converseWireBody(input));
      if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });

  it("keep every tool id, Bedrock's own thinking signatures (unmarked) and non-blank text, and no other provider's", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const request = generate(seed);
      const { input } = buildConverseRequest(historyFor(request, 'bedrock').request, { modelId: 'm' });
      const sent = JSON.stringify(converseWireBody(input));
      for (const message of request.messages) {
        if (typeof message.content === 'string') continue;
        for (const block of message.content) {
          if (block.type === 'tool_use') expect(sent).toContain(`"toolUseId":"${String(block.id)}"`);
          const signature = String(block.signature);
          if (block.type === 'thinking' && signature.startsWith(BEDROCK_MARK)) expect(sent).toContain(`"signature":"${signature.slice(BEDROCK_MARK.length)}"`);
          if (block.type === 'thinking' && !signature.startsWith(BEDROCK_MARK)) expect(sent).not.toContain(signature);
          if (block.type === 'text' && String(block.text).trim() !== '') expect(sent).toContain(JSON.stringify(block.text));
        }
      }
    }
  });
});
