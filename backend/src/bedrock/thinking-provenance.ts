/**
 * Which provider minted each thinking block, so each upstream only gets blocks it can verify.
 *
 * Anthropic and Bedrock each refuse a thinking signature (or `redacted_thinking` data) the other
 * minted. The proxy re-encodes every Bedrock answer anyway, so it marks what Bedrock minted with a
 * prefix no base64 text can start with; Claude Code echoes the marked value back unchanged on the
 * next turn, wherever that turn lands (any task: nothing is kept server-side). Anthropic's bytes
 * are never touched, so an unmarked block is Anthropic's.
 *
 * Before a request goes upstream, `historyFor` removes the other provider's blocks (and unmarks
 * Bedrock's for Bedrock). When that leaves the assistant turn whose tool calls the request answers
 * without its leading thinking block, the API would refuse the request ("a final assistant message
 * must start with a thinking block"), so thinking is turned off for that one request; the model
 * thinks again from the next user turn on. See docs in the README ("Mid-session provider switch").
 */

import type { AnthropicContentBlock, AnthropicMessageParam, AnthropicRequest } from '../anthropic/wire.ts';

/** Put in front of every signature and redacted-thinking payload Bedrock minted. Never valid base64. */
export const BEDROCK_MARK = 'ccproxy-bedrock:';

export type Provider = 'anthropic' | 'bedrock';

/** A Bedrock-minted signature or redacted payload as the client sees it. */
export function markBedrock(value: string): string {
  return value === '' ? value : BEDROCK_MARK + value;
}

/** A thinking / redacted_thinking content block from a Bedrock answer, marked. Other blocks pass as they are. */
export function markBedrockBlock<T extends { type: string; signature?: unknown; data?: unknown }>(block: T): T {
  if (block.type === 'thinking' && typeof block.signature === 'string') return { ...block, signature: markBedrock(block.signature) };
  if (block.type === 'redacted_thinking' && typeof block.data === 'string') return { ...block, data: markBedrock(block.data) };
  return block;
}

/**
 * A Bedrock stream event (parsed) with any signature or redacted payload in it marked, or null
 * when it carries none (the caller then keeps the bytes it has).
 */
export function markBedrockEvent(event: Record<string, unknown>): Record<string, unknown> | null {
  if (event.type === 'content_block_delta') {
    const delta = event.delta as { type?: unknown; signature?: unknown } | undefined;
    if (delta?.type === 'signature_delta' && typeof delta.signature === 'string' && delta.signature !== '') {
      return { ...event, delta: { ...delta, signature: markBedrock(delta.signature) } };
    }
    return null;
  }
  if (event.type === 'content_block_start') {
    const block = event.content_block as { type: string; signature?: unknown; data?: unknown } | undefined;
    if (!block) return null;
    const marked = markBedrockBlock(block);
    const changed =
      (block.type === 'thinking' && block.signature !== '' && marked !== block) || (block.type === 'redacted_thinking' && marked !== block);
    return changed ? { ...event, content_block: marked } : null;
  }
  return null;
}

export interface History {
  request: AnthropicRequest;
  /** Thinking / redacted_thinking blocks removed because the other provider minted them. */
  removedBlocks: number;
  /** Thinking was turned off for this request (see the module comment). */
  thinkingOff: boolean;
}

type Verdict = { keep: true; value?: string } | { keep: false };

/** Whether `target` can verify this value; Bedrock's come back unmarked. */
function judge(value: unknown, target: Provider): Verdict {
  if (typeof value !== 'string' || value === '') return { keep: false }; // nobody verifies an empty signature
  const bedrock = value.startsWith(BEDROCK_MARK);
  if (target === 'anthropic') return bedrock ? { keep: false } : { keep: true };
  return bedrock ? { keep: true, value: value.slice(BEDROCK_MARK.length) } : { keep: false };
}

const isThinking = (block: AnthropicContentBlock) => block.type === 'thinking' || block.type === 'redacted_thinking';

/** The assistant turn's content with only the blocks `target` can verify (null: unchanged). */
function cleanTurn(content: AnthropicContentBlock[], target: Provider): { content: AnthropicContentBlock[]; removed: number } | null {
  let out: AnthropicContentBlock[] | null = null;
  let removed = 0;
  content.forEach((block, i) => {
    if (!block || typeof block !== 'object' || !isThinking(block)) {
      out?.push(block);
      return;
    }
    const verdict = judge(block.type === 'thinking' ? block.signature : block.data, target);
    const field = block.type === 'thinking' ? 'signature' : 'data';
    if (verdict.keep && verdict.value === undefined) {
      out?.push(block);
      return;
    }
    out ??= content.slice(0, i);
    if (verdict.keep) out.push({ ...block, [field]: verdict.value });
    else removed++;
  });
  return out ? { content: out, removed } : null;
}

/**
 * Index of the assistant turn whose tool calls the request's last user turn answers, or -1.
 * Consecutive user (and system) messages count as one turn, as the APIs merge them.
 */
function answeredAssistantTurn(messages: readonly AnthropicMessageParam[]): number {
  let answersTools = false;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'assistant') return answersTools ? i : -1;
    if (message?.role === 'user' && Array.isArray(message.content)) {
      answersTools ||= message.content.some((b) => b && typeof b === 'object' && b.type === 'tool_result');
    }
  }
  return -1;
}

function thinkingType(request: AnthropicRequest): string | null {
  const thinking = request.thinking;
  return thinking && typeof thinking === 'object' && typeof thinking.type === 'string' ? thinking.type : null;
}

/**
 * The request with a history `target` accepts. Returns the same object when nothing had to
 * change (the common case: a session that never switched provider).
 */
export function historyFor(request: AnthropicRequest, target: Provider): History {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  let cleaned: AnthropicMessageParam[] | null = null;
  let removedBlocks = 0;
  /** Cleaned assistant turns that opened with thinking the proxy had to remove. */
  const lostLead = new Set<AnthropicMessageParam>();
  messages.forEach((message, i) => {
    const turn = message?.role === 'assistant' && Array.isArray(message.content) ? cleanTurn(message.content, target) : null;
    if (!turn) {
      cleaned?.push(message);
      return;
    }
    cleaned ??= messages.slice(0, i);
    removedBlocks += turn.removed;
    // An assistant turn that held nothing but the other provider's thinking is left out whole.
    if (turn.content.length === 0) return;
    const kept = { ...message, content: turn.content };
    if (opensWithThinking(message.content) && !opensWithThinking(turn.content)) lostLead.add(kept);
    cleaned.push(kept);
  });

  // With thinking on, the answered assistant turn must open with a thinking block. `enabled`
  // always demands it; with `adaptive` the model may have chosen not to think, which is accepted,
  // so there only a block the proxy removed makes the turn unacceptable.
  const history = cleaned ?? messages;
  const answered = history[answeredAssistantTurn(history)];
  const type = thinkingType(request);
  const thinkingOff =
    answered !== undefined &&
    (lostLead.has(answered) ? type === 'enabled' || type === 'adaptive' : type === 'enabled' && !opensWithThinking(answered.content));

  if (!cleaned && !thinkingOff) return { request, removedBlocks: 0, thinkingOff: false };
  const out: AnthropicRequest = { ...request, messages: history };
  if (thinkingOff) withoutThinking(out);
  return { request: out, removedBlocks, thinkingOff };
}

function opensWithThinking(content: AnthropicMessageParam['content']): boolean {
  return Array.isArray(content) && content[0] !== undefined && content[0] !== null && isThinking(content[0]);
}

/**
 * Thinking off for one request: `thinking` goes, and so do the context edits that need it
 * (`clear_thinking_*`), with `context_management` itself when no edit is left.
 */
function withoutThinking(request: AnthropicRequest): void {
  delete request.thinking;
  const edits = request.context_management?.edits;
  if (!Array.isArray(edits)) return;
  const kept = edits.filter((e) => !(e && typeof e.type === 'string' && e.type.startsWith('clear_thinking')));
  if (kept.length === edits.length) return;
  if (kept.length === 0) delete request.context_management;
  else request.context_management = { ...request.context_management, edits: kept };
}
