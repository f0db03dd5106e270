/**
 * The thinking rules both fakes enforce, as the real APIs do:
 * - a thinking signature (or redacted_thinking data) verifies only on the provider that minted it,
 *   and an empty one verifies nowhere ("Invalid signature in thinking block");
 * - with thinking `enabled`, the assistant turn whose tool calls the last user turn answers must
 *   open with a thinking block. With `adaptive` the model may skip thinking, so a turn without it
 *   is accepted there.
 *
 * Which fake minted a value is told by its decoded text: Bedrock's fake signatures say `bedrock`
 * (`bedrockSignature()`), anything else that is real base64 is Anthropic's (`fakeSignature()`, the
 * captured `Eq…` ones). Text that is not base64 (a proxy's marker left in) verifies nowhere.
 */

export type Minter = 'anthropic' | 'bedrock';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A signature only the fake Bedrock accepts. */
export function bedrockSignature(seed = 'sig'): string {
  return Buffer.from(`bedrock-fake-thinking-signature:${seed}:`.repeat(4)).toString('base64');
}

export function mintedBy(value: unknown): Minter | null {
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) return null;
  return /bedrock/i.test(Buffer.from(value, 'base64').toString('latin1')) ? 'bedrock' : 'anthropic';
}

type Block = Record<string, unknown>;
const isRecord = (v: unknown): v is Block => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One thinking-ish block in provider-neutral form. */
interface Thinking {
  value: unknown;
  where: string;
}

/** How a provider's request shape shows thinking and tool results. */
export interface ThinkingShape {
  thinking(block: Block): Thinking | null;
  isToolResult(block: Block): boolean;
}

export const ANTHROPIC_SHAPE: ThinkingShape = {
  thinking: (b) => (b.type === 'thinking' ? { value: b.signature, where: 'signature' } : b.type === 'redacted_thinking' ? { value: b.data, where: 'data' } : null),
  isToolResult: (b) => b.type === 'tool_result',
};

export const CONVERSE_SHAPE: ThinkingShape = {
  thinking: (b) => {
    const r = isRecord(b.reasoningContent) ? b.reasoningContent : null;
    if (!r) return null;
    if (isRecord(r.reasoningText)) return { value: r.reasoningText.signature, where: 'reasoningText.signature' };
    return { value: typeof r.redactedContent === 'string' ? r.redactedContent : '', where: 'redactedContent' };
  },
  isToolResult: (b) => isRecord(b.toolResult),
};

/** What `provider` would refuse about the thinking in `messages` under `thinkingType` (empty: accepted). */
export function thinkingViolations(provider: Minter, messages: unknown, thinkingType: unknown, shape: ThinkingShape): string[] {
  if (!Array.isArray(messages)) return [];
  const problems: string[] = [];
  messages.forEach((m, i) => {
    if (!isRecord(m) || m.role !== 'assistant' || !Array.isArray(m.content)) return;
    m.content.forEach((b, j) => {
      const t = isRecord(b) ? shape.thinking(b) : null;
      if (t && mintedBy(t.value) !== provider) problems.push(`messages.${i}.content.${j}: Invalid \`${t.where}\` in thinking block`);
    });
  });
  if (thinkingType !== 'enabled') return problems;
  // The last user turn (consecutive user messages merge into one) answers the assistant turn before it.
  const conversation = messages.filter((m) => isRecord(m) && m.role !== 'system') as Block[];
  let i = conversation.length - 1;
  let endsInToolResults = false;
  for (; i >= 0 && conversation[i]!.role === 'user'; i--) {
    const content = conversation[i]!.content;
    endsInToolResults ||= Array.isArray(content) && content.some((b) => isRecord(b) && shape.isToolResult(b));
  }
  const answered = conversation[i];
  if (endsInToolResults && answered?.role === 'assistant') {
    const first = Array.isArray(answered.content) ? answered.content[0] : undefined;
    if (!isRecord(first) || !shape.thinking(first)) {
      problems.push(
        'Expected `thinking` or `redacted_thinking`, but found another block. When `thinking` is enabled, a final `assistant` message must start with a thinking block',
      );
    }
  }
  return problems;
}

/** Every thinking signature in a request body, wherever the provider's shape keeps it. */
export function signaturesIn(json: unknown): string[] {
  const found: string[] = [];
  JSON.stringify(json, (key, value: unknown) => {
    if (key === 'signature' && typeof value === 'string') found.push(value);
    return value;
  });
  return found;
}
