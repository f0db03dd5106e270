/**
 * Builders for Anthropic Messages API responses and their SSE form (docs/upstream-apis.md §1.5–1.7).
 * Pure: no I/O. The fake Anthropic server (`anthropic.ts`) serves what these build, and the
 * conformance test (`test/clients/fake-anthropic.test.ts`) proves the official SDKs reassemble a
 * streamed message into exactly the message it was built from.
 */

// ---------------------------------------------------------------------------------------------
// Wire types (wire spelling; unknown fields are allowed everywhere, as the API adds them)

export interface CacheCreation {
  ephemeral_5m_input_tokens: number;
  ephemeral_1h_input_tokens: number;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: CacheCreation | null;
  service_tier?: string | null;
  server_tool_use?: Record<string, unknown> | null;
  output_tokens_details?: Record<string, unknown> | null;
  [field: string]: unknown;
}

export interface TextBlock {
  type: 'text';
  text: string;
  citations?: unknown[] | null;
  [field: string]: unknown;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
  [field: string]: unknown;
}

export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
  [field: string]: unknown;
}

/** `tool_use`, and the server-executed `server_tool_use`, whose input streams the same way. */
export interface ToolUseBlock {
  type: 'tool_use' | 'server_tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  [field: string]: unknown;
}

/** Any other block (web_search_tool_result, …): sent complete in its content_block_start. */
export interface OpaqueBlock {
  type: string;
  [field: string]: unknown;
}

export type ContentBlock = TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock | OpaqueBlock;

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: Usage;
  [field: string]: unknown;
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

/** One SSE event. `data` is JSON-encoded by `encodeSse`, unless it is a string (sent verbatim). */
export type SseEvent = { event: string; data: unknown };

// ---------------------------------------------------------------------------------------------
// Ids (deterministic counters: readable in failures, unique within a test run)

let counter = 0;
const nextId = (prefix: string): string => `${prefix}_fake_${String(++counter).padStart(4, '0')}`;

export const DEFAULT_MODEL = 'claude-opus-5-5';

/** A base64 string of realistic length, standing in for an opaque thinking signature. */
export function fakeSignature(seed = nextId('sig')): string {
  return Buffer.from(`fake-thinking-signature:${seed}:`.repeat(6)).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Usage

/** Usage as Anthropic sends it for a request without cache hits (docs/upstream-apis.md §1.5). */
export function baseUsage(overrides: Partial<Usage> = {}): Usage {
  return {
    input_tokens: 25,
    output_tokens: 12,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    service_tier: 'standard',
    server_tool_use: null,
    ...overrides,
  };
}

/**
 * Usage with prompt caching at work: `cache_creation_input_tokens` is the sum of the 5m and 1h
 * writes, and `cache_creation` splits it. The option names match `TokenUsage` in
 * `src/anthropic/usage.ts`, so a test can build the wire form of the usage it expects to record.
 */
export function cachedUsage(opts: {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWrite5mTokens?: number;
  cacheWrite1hTokens?: number;
} = {}): Usage {
  const write5m = opts.cacheWrite5mTokens ?? 1200;
  const write1h = opts.cacheWrite1hTokens ?? 300;
  return baseUsage({
    input_tokens: opts.inputTokens ?? 9,
    output_tokens: opts.outputTokens ?? 40,
    cache_creation_input_tokens: write5m + write1h,
    cache_read_input_tokens: opts.cacheReadTokens ?? 5400,
    cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
  });
}

// ---------------------------------------------------------------------------------------------
// Messages

export interface MessageOptions {
  model?: string;
  content: ContentBlock[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: Partial<Usage>;
  id?: string;
}

/** A complete (non-streaming) message with the given content. */
export function buildMessage(opts: MessageOptions): AnthropicMessage {
  return {
    id: opts.id ?? nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: opts.model ?? DEFAULT_MODEL,
    content: opts.content,
    stop_reason: opts.stop_reason === undefined ? 'end_turn' : opts.stop_reason,
    stop_sequence: opts.stop_sequence ?? null,
    usage: baseUsage(opts.usage),
  };
}

export function textMessage(opts: { model?: string; text?: string; usage?: Partial<Usage> } = {}): AnthropicMessage {
  return buildMessage({
    model: opts.model,
    content: [{ type: 'text', text: opts.text ?? 'Hello from the fake Anthropic server.' }],
    usage: opts.usage,
  });
}

/**
 * The shape Claude Code's tool loop gets (docs/upstream-apis.md §4.1): thinking with its signature, a text,
 * then a `tool_use`, and `stop_reason: "tool_use"`. With `redacted: true` a `redacted_thinking`
 * block follows the thinking block.
 */
export function thinkingToolUseMessage(opts: {
  model?: string;
  thinking?: string;
  signature?: string;
  redacted?: boolean;
  text?: string;
  tool?: { id?: string; name?: string; input?: Record<string, unknown> };
  usage?: Partial<Usage>;
} = {}): AnthropicMessage {
  const content: ContentBlock[] = [
    {
      type: 'thinking',
      thinking: opts.thinking ?? 'The user wants the README. I should read it before answering.',
      signature: opts.signature ?? fakeSignature(),
    },
  ];
  if (opts.redacted) content.push({ type: 'redacted_thinking', data: fakeSignature(nextId('redacted')) });
  content.push(
    { type: 'text', text: opts.text ?? "I'll read the README first." },
    {
      type: 'tool_use',
      id: opts.tool?.id ?? nextId('toolu'),
      name: opts.tool?.name ?? 'Read',
      input: opts.tool?.input ?? { file_path: '/home/user/project/README.md', limit: 200 },
    },
  );
  return buildMessage({ model: opts.model, content, stop_reason: 'tool_use', usage: opts.usage });
}

/** The error body Anthropic sends, as JSON or as the data of an SSE `error` event (§1.7). */
export function errorBody(type: string, message: string, requestId: string = nextId('req')): AnthropicErrorBody {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

/** An SSE `error` event, as sent mid-stream after the HTTP 200 (e.g. `overloaded_error`). */
export function errorEvent(type = 'overloaded_error', message = 'Overloaded'): SseEvent {
  return { event: 'error', data: errorBody(type, message) };
}

// ---------------------------------------------------------------------------------------------
// Streaming

/** Splits `s` into at most `n` non-empty pieces of near-equal length, never inside a code point. */
export function splitChunks(s: string, n: number): string[] {
  const chars = Array.from(s);
  const count = Math.max(1, Math.min(Math.floor(n), chars.length));
  const size = Math.ceil(chars.length / count);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function isTextBlock(b: ContentBlock): b is TextBlock {
  return b.type === 'text';
}
function isThinkingBlock(b: ContentBlock): b is ThinkingBlock {
  return b.type === 'thinking';
}
function isToolUseBlock(b: ContentBlock): b is ToolUseBlock {
  return b.type === 'tool_use' || b.type === 'server_tool_use';
}

/** The content_block_delta payloads of one block, after its start. */
function blockEvents(block: ContentBlock, index: number, textChunks: number, jsonChunks: number): SseEvent[] {
  const delta = (d: Record<string, unknown>): SseEvent => ({
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index, delta: d },
  });
  let start: ContentBlock;
  const deltas: SseEvent[] = [];
  if (isTextBlock(block)) {
    const { text, citations, ...rest } = block;
    // Citations arrive as citations_delta events, appended by the SDK to the start's array.
    const hasCitations = Array.isArray(citations) && citations.length > 0;
    start = { ...rest, type: 'text', text: '', ...(citations === undefined ? {} : { citations: hasCitations ? [] : citations }) };
    for (const piece of splitChunks(text, textChunks)) deltas.push(delta({ type: 'text_delta', text: piece }));
    if (hasCitations) for (const citation of citations) deltas.push(delta({ type: 'citations_delta', citation }));
  } else if (isThinkingBlock(block)) {
    start = { ...block, thinking: '', signature: '' };
    for (const piece of splitChunks(block.thinking, textChunks)) deltas.push(delta({ type: 'thinking_delta', thinking: piece }));
    deltas.push(delta({ type: 'signature_delta', signature: block.signature }));
  } else if (isToolUseBlock(block)) {
    start = { ...block, input: {} };
    // Anthropic opens with an empty fragment; an empty input is that fragment alone.
    deltas.push(delta({ type: 'input_json_delta', partial_json: '' }));
    if (Object.keys(block.input).length > 0) {
      for (const piece of splitChunks(JSON.stringify(block.input), jsonChunks)) {
        deltas.push(delta({ type: 'input_json_delta', partial_json: piece }));
      }
    }
  } else {
    start = block; // redacted_thinking and server-tool results come complete
  }
  return [
    { event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } },
    ...deltas,
    { event: 'content_block_stop', data: { type: 'content_block_stop', index } },
  ];
}

export interface StreamOptions {
  /** Text and thinking are split into at most this many deltas (default 3). */
  textChunks?: number;
  /** Tool input JSON is split into at most this many fragments after the leading "" (default 3). */
  jsonChunks?: number;
  /** A `ping` after every N events (N = 1: one right after message_start, as Anthropic does). */
  pingEvery?: number;
  /**
   * message_delta usage: 'cumulative' (default) repeats the final input and cache counts next to
   * output_tokens, as the API does today; 'output' sends output_tokens alone.
   */
  deltaUsage?: 'cumulative' | 'output';
}

/**
 * The exact SSE event sequence Anthropic sends for `message` (docs/upstream-apis.md §1.6): message_start
 * (empty content, null stop_reason, output_tokens 1), each block's start / deltas / stop,
 * message_delta (stop reason and cumulative usage), message_stop. The SDKs assemble it back into
 * a message deep-equal to `message`.
 */
export function messageToEvents(message: AnthropicMessage, opts: StreamOptions = {}): SseEvent[] {
  const textChunks = opts.textChunks ?? 3;
  const jsonChunks = opts.jsonChunks ?? 3;
  const u = message.usage;

  const { content, stop_reason, stop_sequence, usage: _usage, ...head } = message;
  const events: SseEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { ...head, content: [], stop_reason: null, stop_sequence: null, usage: { ...u, output_tokens: 1 } },
      },
    },
  ];
  content.forEach((block, index) => events.push(...blockEvents(block, index, textChunks, jsonChunks)));

  // Delta fields the SDK copies onto its snapshot: stop_details always (so send it whenever the
  // message has one), container only when not null.
  const delta: Record<string, unknown> = { stop_reason, stop_sequence };
  if ('stop_details' in message) delta.stop_details = message.stop_details;
  if (message.container != null) delta.container = message.container;
  const deltaUsage: Record<string, unknown> = { output_tokens: u.output_tokens };
  if (opts.deltaUsage !== 'output') {
    deltaUsage.input_tokens = u.input_tokens;
    for (const field of ['cache_creation_input_tokens', 'cache_read_input_tokens', 'server_tool_use', 'output_tokens_details'] as const) {
      if (u[field] != null) deltaUsage[field] = u[field];
    }
  }
  events.push(
    { event: 'message_delta', data: { type: 'message_delta', delta, usage: deltaUsage } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );

  const every = opts.pingEvery;
  if (!every || every < 1) return events;
  const paced: SseEvent[] = [];
  events.forEach((e, i) => {
    paced.push(e);
    if ((i + 1) % every === 0 && i < events.length - 1) paced.push({ event: 'ping', data: { type: 'ping' } });
  });
  return paced;
}

/** One event in SSE framing: `event: <name>\ndata: <json>\n\n`. */
export function encodeSseEvent(e: SseEvent): Buffer {
  const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
  const lines = data.split('\n').map((line) => `data: ${line}\n`).join('');
  return Buffer.from(`event: ${e.event}\n${lines}\n`, 'utf8');
}

export function encodeSse(events: SseEvent[]): Buffer {
  return Buffer.concat(events.map(encodeSseEvent));
}
