/**
 * Every request in the replay corpus (real Claude Code CLI captures, `test/fixtures/claude-code/replay`)
 * through every Bedrock mode and back to Anthropic, checked against the fakes' rules (what the real
 * services refuse). New captures dropped into the folder join the table automatically.
 *
 * Three sessions per capture:
 * - as captured (Anthropic answered every earlier turn) → each Bedrock mode;
 * - "switched": the same history as if Bedrock had answered, every assistant thinking signature
 *   replaced by a marked Bedrock one → each Bedrock mode, and back to Anthropic;
 * - as captured, straight to Anthropic (the proxy forwards the client's bytes untouched).
 */

import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { parseBetaHeader } from '../../../src/bedrock/betas.ts';
import { buildConverseRequest } from '../../../src/bedrock/converse/request.ts';
import { buildInvokeBody } from '../../../src/bedrock/invoke.ts';
import { buildMessagesRequest } from '../../../src/bedrock/messages.ts';
import { resolveBedrockModel } from '../../../src/bedrock/models.ts';
import { BEDROCK_MARK, historyFor, markBedrock } from '../../../src/bedrock/thinking-provenance.ts';
import { anthropicRuleViolations } from '../../fakes/anthropic.ts';
import { converseRuleViolations, converseWireBody, jsonView, invokeRuleViolations, messagesRuleViolations } from '../../fakes/bedrock.ts';
import { bedrockSignature, mintedBy } from '../../fakes/thinking-rules.ts';
import { fixtureNames, readFixture } from './fixtures.ts';

interface Capture {
  description: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: AnthropicRequest;
}

const DIR = 'claude-code/replay';
const NAMES = fixtureNames(DIR);
const load = (name: string): Capture => readFixture<Capture>(`${DIR}/${name}.json`);
const MODES = ['invoke', 'converse', 'messages'] as const;
type Mode = (typeof MODES)[number];
const REGION = 'us-east-1';
const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Translated {
  /** The request as Bedrock receives it (JSON view). */
  json: Rec;
  violations: string[];
}

/** `historyFor(request, 'bedrock')`, then the mode's translation, checked against that mode's fake rules. */
function toBedrock(mode: Mode, request: AnthropicRequest, headers: Record<string, string>): Translated {
  const history = historyFor(request, 'bedrock').request;
  const betas = parseBetaHeader(headers['anthropic-beta']);
  const modelId = resolveBedrockModel(history.model, REGION).modelId;
  switch (mode) {
    case 'invoke': {
      const json = jsonView(JSON.parse(JSON.stringify(buildInvokeBody(history, { betas }).body))) as Rec;
      return { json, violations: invokeRuleViolations(json) };
    }
    case 'converse': {
      const json = converseWireBody(buildConverseRequest(history, { modelId, betas }).input) as Rec;
      return { json, violations: converseRuleViolations(json) };
    }
    case 'messages': {
      const built = buildMessagesRequest(history, { modelId, betas, host: 'runtime' });
      const json = JSON.parse(JSON.stringify(built.body)) as Rec;
      return { json, violations: messagesRuleViolations(json, built.headers['anthropic-beta']) };
    }
  }
}

const messagesOf = (json: Rec): Rec[] => (Array.isArray(json.messages) ? json.messages.filter(isRecord) : []);
const blocksOf = (message: Rec): Rec[] => (Array.isArray(message.content) ? message.content.filter(isRecord) : []);

/** Tool call ids and tool result ids, in order, in an Anthropic-shaped or Converse-shaped request. */
function toolIds(json: Rec, shape: 'anthropic' | 'converse'): { uses: string[]; results: string[] } {
  const uses: string[] = [];
  const results: string[] = [];
  for (const block of messagesOf(json).flatMap(blocksOf)) {
    if (shape === 'anthropic') {
      if (block.type === 'tool_use' || block.type === 'server_tool_use') uses.push(String(block.id));
      if (block.type === 'tool_result') results.push(String(block.tool_use_id));
    } else {
      if (isRecord(block.toolUse)) uses.push(String(block.toolUse.toolUseId));
      if (isRecord(block.toolResult)) results.push(String(block.toolResult.toolUseId));
    }
  }
  return { uses, results };
}

/** Every thinking signature / redacted payload in an Anthropic-shaped or Converse-shaped request. */
function thinkingValues(json: Rec, shape: 'anthropic' | 'converse'): string[] {
  const out: string[] = [];
  for (const block of messagesOf(json).flatMap(blocksOf)) {
    if (shape === 'anthropic') {
      if (block.type === 'thinking') out.push(String(block.signature));
      if (block.type === 'redacted_thinking') out.push(String(block.data));
    } else if (isRecord(block.reasoningContent)) {
      const r = block.reasoningContent;
      out.push(isRecord(r.reasoningText) ? String(r.reasoningText.signature) : String(r.redactedContent));
    }
  }
  return out;
}

const shapeOf = (mode: Mode): 'anthropic' | 'converse' => (mode === 'converse' ? 'converse' : 'anthropic');
/** Role and content of the mid-conversation system messages (invoke drops per-message extras such as `output_config`). */
const systemMessages = (json: Rec) => messagesOf(json).filter((m) => m.role === 'system').map((m) => ({ role: m.role, content: m.content }));

/**
 * The session as if Bedrock had answered every earlier turn through the proxy: each assistant
 * thinking signature (and redacted payload) replaced by a marked Bedrock one. Returns the copy and
 * the unmarked values Bedrock must receive.
 */
function switched(name: string, body: AnthropicRequest): { copy: AnthropicRequest; bedrockValues: string[] } {
  const copy = structuredClone(body);
  const bedrockValues: string[] = [];
  copy.messages.forEach((message, i) => {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) return;
    message.content = message.content.map((block, j): AnthropicContentBlock => {
      const seed = `${name}:${i}:${j}`;
      if (block.type === 'thinking') {
        bedrockValues.push(bedrockSignature(seed));
        return { ...block, signature: markBedrock(bedrockSignature(seed)) };
      }
      if (block.type === 'redacted_thinking') {
        bedrockValues.push(bedrockSignature(seed));
        return { ...block, data: markBedrock(bedrockSignature(seed)) };
      }
      return block;
    });
  });
  return { copy, bedrockValues };
}

/** The headers the proxy sends Anthropic with `sent` (planBody in proxy/plan-attempt.ts): the context-management beta goes with its field. */
function anthropicHeaders(original: AnthropicRequest, sent: AnthropicRequest, headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if (original.context_management && !sent.context_management) {
    const betas = parseBetaHeader(out['anthropic-beta']).filter((b) => b !== CONTEXT_MANAGEMENT_BETA);
    if (betas.length > 0) out['anthropic-beta'] = betas.join(',');
    else delete out['anthropic-beta'];
  }
  return out;
}

/** The checks every Bedrock-bound translation of `source` must pass. */
function expectServable(mode: Mode, source: Capture, translated: Translated): void {
  expect(translated.violations).toEqual([]);

  // Every tool call and tool result survives, in order.
  expect(toolIds(translated.json, shapeOf(mode))).toEqual(toolIds(source.body as unknown as Rec, 'anthropic'));

  // Nothing only Anthropic can verify, and no proxy marker, reaches Bedrock.
  const text = JSON.stringify(translated.json);
  expect(text).not.toContain(BEDROCK_MARK);
  for (const value of thinkingValues(translated.json, shapeOf(mode))) expect(mintedBy(value)).toBe('bedrock');
  for (const value of thinkingValues(source.body as unknown as Rec, 'anthropic')) {
    if (mintedBy(value) === 'anthropic') expect(text).not.toContain(value);
  }

  // Mid-conversation system messages: Converse has no place for them; the native bodies keep them.
  const messages = messagesOf(translated.json);
  if (mode === 'converse') {
    expect(messages.length).toBeGreaterThan(0);
    messages.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
  } else {
    expect(systemMessages(translated.json)).toEqual(systemMessages(source.body as unknown as Rec));
  }
}

const CASES = NAMES.flatMap((name) => MODES.map((mode) => ({ name, mode })));

describe('replay corpus', () => {
  it('holds the captures this suite was written for', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(8);
    // At least one capture carries Anthropic thinking in its history, so the provenance checks bite.
    const withThinking = NAMES.filter((n) => thinkingValues(load(n).body as unknown as Rec, 'anthropic').length > 0);
    expect(withThinking.length).toBeGreaterThan(0);
  });

  describe('as captured, served by Bedrock', () => {
    it.each(CASES)('$name via $mode: accepted, tool ids kept, no Anthropic signature', ({ name, mode }) => {
      const capture = load(name);
      const before = structuredClone(capture.body);
      expectServable(mode, capture, toBedrock(mode, capture.body, capture.headers));
      expect(capture.body).toEqual(before); // the translation never touches the client's request
    });
  });

  describe('switched provider (Bedrock answered the earlier turns), served by Bedrock', () => {
    it.each(CASES)('$name via $mode: its own signatures arrive unmarked and are accepted', ({ name, mode }) => {
      const capture = load(name);
      const { copy, bedrockValues } = switched(name, capture.body);
      const translated = toBedrock(mode, copy, capture.headers);
      expectServable(mode, { ...capture, body: copy }, translated);
      expect(thinkingValues(translated.json, shapeOf(mode))).toEqual(bedrockValues);
      expect(thinkingValues(copy as unknown as Rec, 'anthropic')).toHaveLength(thinkingValues(capture.body as unknown as Rec, 'anthropic').length);
    });
  });

  describe('switched provider, back to Anthropic', () => {
    it.each(NAMES)('%s: Bedrock thinking removed, accepted by Anthropic', (name) => {
      const capture = load(name);
      const { copy, bedrockValues } = switched(name, capture.body);
      const history = historyFor(copy, 'anthropic');
      const json = JSON.parse(JSON.stringify(history.request)) as Rec;
      const headers = anthropicHeaders(copy, history.request, capture.headers);
      expect(anthropicRuleViolations({ headers, json })).toEqual([]);
      expect(JSON.stringify(json)).not.toContain(BEDROCK_MARK);
      expect(thinkingValues(json, 'anthropic')).toEqual([]);
      expect(history.removedBlocks).toBe(bedrockValues.length);
      expect(toolIds(json, 'anthropic')).toEqual(toolIds(capture.body as unknown as Rec, 'anthropic'));
      if (bedrockValues.length === 0) expect(history.request).toBe(copy);
      // Without thinking, no context edit that needs it, and no beta without its field.
      if (history.thinkingOff) {
        expect(json.thinking).toBeUndefined();
        expect(parseBetaHeader(headers['anthropic-beta']).includes(CONTEXT_MANAGEMENT_BETA)).toBe(json.context_management !== undefined);
      }
    });
  });

  describe('as captured, straight to Anthropic', () => {
    it.each(NAMES)('%s: forwarded as is and accepted', (name) => {
      const capture = load(name);
      const history = historyFor(capture.body, 'anthropic');
      expect(history.request).toBe(capture.body);
      expect(history.removedBlocks).toBe(0);
      expect(history.thinkingOff).toBe(false);
      expect(anthropicRuleViolations({ headers: capture.headers, json: capture.body })).toEqual([]);
    });
  });
});
