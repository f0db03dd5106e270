/**
 * A fake Amazon Bedrock Runtime speaking the real wire format (docs/upstream-apis.md §2):
 * - `POST /model/{modelId}/converse | converse-stream | invoke | invoke-with-response-stream | count-tokens`
 *   (`{modelId}` URL-decoded) and `POST /anthropic/v1/messages` (the Messages endpoint);
 * - event streams framed with `@smithy/eventstream-codec` (`:message-type`, `:event-type`,
 *   `:content-type`; exception frames with `:exception-type`; the `p` padding real Bedrock adds);
 * - errors as status + `x-amzn-errortype` + `{"message"}`.
 *
 * Each test scripts replies (status, body, frames, first-byte delay, per-frame delay, exception
 * frames, a dropped socket) and reads back what was received (headers incl. Authorization,
 * body). By default requests are checked against Bedrock's validation rules, so a translation
 * Bedrock would refuse gets the ValidationException Bedrock would send.
 */

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { BedrockMode } from '../../src/bedrock/upstream.ts';
import { messageToEvents, thinkingToolUseMessage } from './anthropic-messages.ts';
import { ANTHROPIC_SHAPE, CONVERSE_SHAPE, thinkingViolations } from './thinking-rules.ts';

export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream' | 'messages' | 'count-tokens';

/** One event-stream frame, in wire form (JSON as Bedrock sends it; blobs as base64 text). */
export type FakeFrame =
  /** A ConverseStream event: `:event-type` = `event`, payload = the member's JSON. */
  | { event: string; payload: Record<string, unknown> }
  /** An InvokeModelWithResponseStream `chunk` carrying one Anthropic stream event. */
  | { chunk: Record<string, unknown> }
  /** A modelled exception frame (`throttlingException`, `modelStreamErrorException`, …). */
  | { exception: string; message: string }
  /** An unmodelled error frame. */
  | { errorCode: string; errorMessage: string };

export interface FakeBedrockReply {
  /** HTTP status of a non-error reply (default 200). */
  status?: number;
  headers?: Record<string, string>;
  /** An error reply: `x-amzn-errortype: <name>:…`, body `{"message"}`, status from the name unless given. */
  error?: { name: string; message: string; status?: number };
  /** JSON body (Converse response, Anthropic message). Defaults to a short text answer. */
  body?: unknown;
  /** Event-stream frames (converse-stream, invoke-with-response-stream). */
  frames?: FakeFrame[];
  /** SSE events for the Messages endpoint with `stream: true`. */
  sse?: Array<Record<string, unknown> & { type: string }>;
  /** Milliseconds before the response head is written (time to first byte). */
  delayMs?: number;
  /** Milliseconds between frames / SSE events. */
  frameDelayMs?: number;
  /** Destroy the socket after this many frames / SSE events. */
  destroyAfterFrames?: number;
  /** Check Bedrock's request rules first (default true). */
  validate?: boolean;
}

export interface RecordedBedrockRequest {
  operation: BedrockOperation | null;
  /** URL-decoded `{modelId}` (or the Messages body's `model`). */
  modelId: string | null;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** The client's port: equal across requests when a pooled connection was reused. */
  remotePort: number | undefined;
  /** Settles when the exchange is over: `finished` (response sent) or `closed` (connection gone first). */
  ended: Promise<'finished' | 'closed'>;
}

export interface FakeBedrock {
  /** `http://127.0.0.1:<port>`: pass as the SDK's `endpoint`. */
  url: string;
  requests: RecordedBedrockRequest[];
  /** Queues replies for an operation (or `*`: any), used in order before the default reply. */
  reply(operation: BedrockOperation | '*', ...replies: FakeBedrockReply[]): void;
  /** Forgets queued replies and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  ConflictException: 400,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  UnknownOperationException: 404,
};

const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

const str = (value: string) => ({ type: 'string' as const, value });

/** Encodes one frame exactly as Bedrock does. */
export function encodeFrame(frame: FakeFrame): Uint8Array {
  let headers: MessageHeaders;
  let body: Uint8Array;
  if ('event' in frame) {
    headers = { ':event-type': str(frame.event), ':content-type': str('application/json'), ':message-type': str('event') };
    body = fromUtf8(JSON.stringify({ ...frame.payload, p: PADDING.slice(0, 8) }));
  } else if ('chunk' in frame) {
    headers = { ':event-type': str('chunk'), ':content-type': str('application/json'), ':message-type': str('event') };
    const bytes = Buffer.from(JSON.stringify(frame.chunk)).toString('base64');
    body = fromUtf8(JSON.stringify({ bytes, p: PADDING.slice(0, 12) }));
  } else if ('exception' in frame) {
    headers = { ':exception-type': str(frame.exception), ':content-type': str('application/json'), ':message-type': str('exception') };
    body = fromUtf8(JSON.stringify({ message: frame.message }));
  } else {
    headers = { ':error-code': str(frame.errorCode), ':error-message': str(frame.errorMessage), ':message-type': str('error') };
    body = new Uint8Array(0);
  }
  return codec.encode({ headers, body });
}

/**
 * A ConverseStream frame as the AWS SDK yields it (`{ [event]: payload }`, padding dropped,
 * blobs decoded), so unit tests can feed fixtures to the translator without a socket.
 * `test/clients/bedrock-fake.test.ts` checks that the SDK really yields this.
 */
export function wireEventToSdk(frame: FakeFrame): Record<string, unknown> {
  if ('exception' in frame) return { [frame.exception]: { message: frame.message } };
  if (!('event' in frame)) throw new Error('wireEventToSdk: only ConverseStream event and exception frames');
  const { p: _padding, ...payload } = frame.payload;
  const redacted = (payload.delta as { reasoningContent?: { redactedContent?: unknown } } | undefined)?.reasoningContent?.redactedContent;
  if (frame.event === 'contentBlockDelta' && typeof redacted === 'string') {
    const delta = payload.delta as Record<string, unknown>;
    return { [frame.event]: { ...payload, delta: { ...delta, reasoningContent: { redactedContent: new Uint8Array(Buffer.from(redacted, 'base64')) } } } };
  }
  return { [frame.event]: payload };
}

/** The streaming operation each mode calls. */
export const streamOperation = (mode: BedrockMode): BedrockOperation =>
  mode === 'invoke' ? 'invoke-with-response-stream' : mode === 'converse' ? 'converse-stream' : 'messages';

/** A streamed answer with thinking (signed `signature`), a text and a Read call, in the mode's wire form. */
export function thinkingToolTurn(
  mode: BedrockMode,
  turn: { toolId: string; signature: string; filePath: string; thinking?: string; text?: string },
): FakeBedrockReply {
  const thinking = turn.thinking ?? 'Bedrock thinks: the next file.';
  const text = turn.text ?? 'Reading the next file.';
  if (mode === 'converse') {
    return {
      frames: [
        { event: 'messageStart', payload: { role: 'assistant' } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: thinking } } } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { signature: turn.signature } } } },
        { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { text } } },
        { event: 'contentBlockStop', payload: { contentBlockIndex: 1 } },
        { event: 'contentBlockStart', payload: { contentBlockIndex: 2, start: { toolUse: { toolUseId: turn.toolId, name: 'Read' } } } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 2, delta: { toolUse: { input: JSON.stringify({ file_path: turn.filePath }) } } } },
        { event: 'contentBlockStop', payload: { contentBlockIndex: 2 } },
        { event: 'messageStop', payload: { stopReason: 'tool_use' } },
        { event: 'metadata', payload: { usage: { inputTokens: 40, outputTokens: 30, totalTokens: 70 }, metrics: { latencyMs: 10 } } },
      ],
    };
  }
  const message = thinkingToolUseMessage({ signature: turn.signature, thinking, text, tool: { id: turn.toolId, input: { file_path: turn.filePath } } });
  const events = messageToEvents(message).map((e) => e.data as Record<string, unknown> & { type: string });
  return mode === 'invoke' ? { frames: events.map((chunk) => ({ chunk })) } : { sse: events };
}

/** ConverseStream frames for a plain text answer. */
export function converseTextFrames(text: string, usage = { inputTokens: 12, outputTokens: 5, totalTokens: 17 }): FakeFrame[] {
  return [
    { event: 'messageStart', payload: { role: 'assistant' } },
    { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text } } },
    { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
    { event: 'messageStop', payload: { stopReason: 'end_turn' } },
    { event: 'metadata', payload: { usage, metrics: { latencyMs: 42 } } },
  ];
}

/** Anthropic stream events for a plain text answer, as Bedrock's native paths send them. */
export function anthropicTextEvents(text: string, model = 'claude-opus-5-5'): Array<Record<string, unknown> & { type: string }> {
  return [
    {
      type: 'message_start',
      message: {
        id: 'msg_bdrk_01FakeBedrockText000000',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } },
    {
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 5, invocationLatency: 40, firstByteLatency: 20 },
    },
  ];
}

function anthropicTextMessage(text: string, model: string): Record<string, unknown> {
  return {
    id: 'msg_bdrk_01FakeBedrockText000000',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5 },
  };
}

const DEFAULT_TEXT = 'hello from bedrock';

function defaultReply(operation: BedrockOperation, json: unknown): FakeBedrockReply {
  switch (operation) {
    case 'converse':
      return {
        body: {
          output: { message: { role: 'assistant', content: [{ text: DEFAULT_TEXT }] } },
          stopReason: 'end_turn',
          usage: { inputTokens: 12, outputTokens: 5, totalTokens: 17 },
          metrics: { latencyMs: 42 },
        },
      };
    case 'converse-stream':
      return { frames: converseTextFrames(DEFAULT_TEXT) };
    case 'invoke':
      return { body: anthropicTextMessage(DEFAULT_TEXT, 'claude-opus-5-5') };
    case 'invoke-with-response-stream':
      return { frames: anthropicTextEvents(DEFAULT_TEXT).map((chunk) => ({ chunk })) };
    case 'messages': {
      const stream = (json as { stream?: unknown } | undefined)?.stream === true;
      return stream ? { sse: anthropicTextEvents(DEFAULT_TEXT) } : { body: anthropicTextMessage(DEFAULT_TEXT, 'claude-opus-5-5') };
    }
    case 'count-tokens':
      // A stand-in for the tokenizer: about four bytes a token.
      return { body: { inputTokens: Math.ceil((countTokensInvokeBody(json)?.length ?? 0) / 4) } };
  }
}

/**
 * The InvokeModel body inside a CountTokens request (`{input:{invokeModel:{body}}}`, the body as
 * base64 on the wire), or undefined when the request has none.
 */
export function countTokensInvokeBody(json: unknown): Buffer | undefined {
  const body = (json as { input?: { invokeModel?: { body?: unknown } } } | undefined)?.input?.invokeModel?.body;
  return typeof body === 'string' ? Buffer.from(body, 'base64') : undefined;
}

/** The CountTokens request's InvokeModel body parsed as JSON (undefined when absent or not JSON). */
function countTokensInvokeJson(json: unknown): unknown {
  try {
    const bytes = countTokensInvokeBody(json);
    return bytes ? JSON.parse(bytes.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Bedrock's request rules, as the service enforces them (public error messages in quotes).

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value as the AWS SDK writes it in JSON: bytes as base64. */
export function jsonView(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonView);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonView(v)]));
  return value;
}

/** A Converse input (`ConverseCommand`'s) as the SDK sends its body: `modelId` goes in the path. */
export function converseWireBody(input: { modelId?: unknown }): unknown {
  const { modelId: _modelId, ...body } = input;
  return jsonView(body);
}

/** Everything Converse would refuse in `body`, first problem first (empty: accepted). */
export function converseRuleViolations(body: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(body)) return ['body is not a JSON object'];
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return ['messages: at least one message is required'];
  let cachePoints = 0;
  const names = new Set<string>();
  const checkBlock = (block: unknown, where: string) => {
    if (!isRecord(block) || Object.keys(block).length !== 1) return problems.push(`${where}: a content block must have exactly one member`);
    if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
      problems.push(`${where}: "The text field in the ContentBlock object is blank"`);
    }
    if ('cachePoint' in block) cachePoints++;
    if ('document' in block && isRecord(block.document)) {
      const name = block.document.name;
      if (typeof name !== 'string' || !/^[A-Za-z0-9()[\]-]+(?: [A-Za-z0-9()[\]-]+)*$/.test(name)) problems.push(`${where}: invalid document name`);
      else if (names.has(name)) problems.push(`${where}: duplicate document name ${name}`);
      else names.add(name);
    }
    return 0;
  };
  for (const key of Object.keys(body)) if (!CONVERSE_FIELDS.has(key)) problems.push(`"extraneous key [${key}] is not permitted"`);
  if (Array.isArray(body.system)) body.system.forEach((b, i) => checkBlock(b, `system.${i}`));
  let usesTools = false;
  let previous: { role: string; toolUseIds: string[] } | null = null;
  if (isRecord(messages[0]) && messages[0].role !== 'user') problems.push('"A conversation must start with a user message"');
  messages.forEach((message, i) => {
    // The SDK's 2026 role enum lists `system`, but the service refuses it in `messages`.
    if (!isRecord(message) || !['user', 'assistant'].includes(String(message.role))) {
      return problems.push(`messages.${i}.role: "Value at 'messages.${i}.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]"`);
    }
    const content = message.content;
    const last = i === messages.length - 1;
    if (!Array.isArray(content) || (content.length === 0 && !(last && message.role === 'assistant'))) {
      return problems.push(`messages.${i}: "messages must have non-empty content"`);
    }
    content.forEach((b, j) => checkBlock(b, `messages.${i}.content.${j}`));
    if (previous && previous.role === message.role) problems.push('"A conversation must alternate between user and assistant roles"');
    const toolUseIds: string[] = [];
    const resultIds: string[] = [];
    for (const block of content) {
      if (!isRecord(block)) continue;
      if (isRecord(block.toolUse)) {
        usesTools = true;
        toolUseIds.push(String(block.toolUse.toolUseId));
      }
      if (isRecord(block.toolResult)) {
        usesTools = true;
        resultIds.push(String(block.toolResult.toolUseId));
        const inner = block.toolResult.content;
        if (!Array.isArray(inner) || inner.length === 0) problems.push(`messages.${i}: toolResult content must not be empty`);
        else inner.forEach((b, k) => checkBlock(b, `messages.${i}.toolResult.content.${k}`));
      }
    }
    const expected = previous?.role === 'assistant' ? previous.toolUseIds : [];
    for (const id of resultIds) if (!expected.includes(id)) problems.push(`messages.${i}: toolResult ${id} does not match a toolUse in the previous turn`);
    if (message.role === 'user' && expected.length > 0) {
      const missing = expected.filter((id) => !resultIds.includes(id));
      if (missing.length > 0) problems.push(`messages.${i}: "Expected toolResult blocks at messages.${i}.content for the following Ids: ${missing.join(', ')}"`);
    }
    previous = { role: String(message.role), toolUseIds };
    return 0;
  });
  const toolConfig = body.toolConfig;
  if (isRecord(toolConfig)) {
    const tools = toolConfig.tools;
    if (!Array.isArray(tools) || tools.filter((t) => isRecord(t) && 'toolSpec' in t).length === 0) problems.push('toolConfig.tools: at least one tool is required');
    else for (const t of tools) if (isRecord(t) && 'cachePoint' in t) cachePoints++;
  } else if (usesTools) {
    problems.push('"The toolConfig field must be defined when using toolUse and toolResult content blocks."');
  }
  if (cachePoints > 4) problems.push(`"A maximum of 4 blocks with cache_control may be provided. Found ${cachePoints}."`);
  const additional = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
  const thinkingType = isRecord(additional.thinking) ? additional.thinking.type : undefined;
  problems.push(...thinkingViolations('bedrock', messages, thinkingType, CONVERSE_SHAPE));
  return problems;
}

/** Converse's top-level request members; anything else is refused. */
const CONVERSE_FIELDS = new Set([
  'messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig', 'additionalModelRequestFields', 'promptVariables',
  'additionalModelResponseFieldPaths', 'requestMetadata', 'performanceConfig', 'serviceTier',
]);

const INVOKE_FIELDS = new Set([
  'anthropic_version', 'max_tokens', 'messages', 'anthropic_beta', 'system', 'stop_sequences', 'temperature', 'top_p',
  'top_k', 'tools', 'tool_choice', 'thinking', 'metadata', 'output_config', 'context_management',
]);
/** Beta values Bedrock accepts in `anthropic_beta` (litellm's list plus what Claude Code sends). */
const INVOKE_BETAS = new Set([
  'interleaved-thinking-2025-05-14', 'dev-full-thinking-2025-05-14', 'context-1m-2025-08-07', 'context-management-2025-06-27',
  'compact-2026-01-12', 'token-efficient-tools-2025-02-19', 'output-128k-2025-02-19', 'computer-use-2024-10-22',
  'computer-use-2025-01-24', 'computer-use-2025-11-24', 'tool-search-tool-2025-10-19', 'tool-examples-2025-10-29',
  'effort-2025-11-24', 'thinking-token-count-2026-05-13',
]);

/** Betas that only make sense with a body field: each needs the other. */
const BETA_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['context-management-2025-06-27', 'context_management'],
  ['compact-2026-01-12', 'context_management'],
];

/** Everything InvokeModel would refuse in an Anthropic native body (empty: accepted). */
export function invokeRuleViolations(body: unknown): string[] {
  if (!isRecord(body)) return ['body is not a JSON object'];
  const betas = Array.isArray(body.anthropic_beta) ? body.anthropic_beta.map(String) : [];
  return [...nativeRuleViolations(body, betas, INVOKE_FIELDS), ...(body.anthropic_version !== 'bedrock-2023-05-31' ? ['anthropic_version: "Invalid API version"'] : [])];
}

/** Everything Bedrock's Messages endpoint (bedrock-runtime host) would refuse: the native rules, with `model` and `stream`, betas in the header. */
export function messagesRuleViolations(body: unknown, betaHeader: string | string[] | undefined): string[] {
  if (!isRecord(body)) return ['body is not a JSON object'];
  const problems: string[] = [];
  if ('anthropic_beta' in body) problems.push('"extraneous key [anthropic_beta] is not permitted"');
  if (body.anthropic_version !== 'bedrock-2023-05-31') problems.push('anthropic_version: "Invalid API version"');
  if (typeof body.model !== 'string' || body.model === '') problems.push('model: Field required');
  const betas = (Array.isArray(betaHeader) ? betaHeader : [betaHeader ?? '']).flatMap((h) => h.split(',')).map((b) => b.trim()).filter(Boolean);
  return [...problems, ...nativeRuleViolations(body, betas, MESSAGES_FIELDS)];
}

const MESSAGES_FIELDS = new Set([...[...INVOKE_FIELDS].filter((f) => f !== 'anthropic_beta'), 'model', 'stream']);

/** The Anthropic-native rules InvokeModel and the Messages endpoint share. */
function nativeRuleViolations(body: Record<string, unknown>, betas: readonly string[], fields: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(body)) if (!fields.has(key)) problems.push(`"extraneous key [${key}] is not permitted"`);
  for (const beta of betas) if (!INVOKE_BETAS.has(beta)) problems.push(`"invalid beta flag": ${beta}`);
  for (const [beta, field] of BETA_FIELDS) {
    if (betas.includes(beta) && body[field] === undefined) problems.push(`${field}: required by beta ${beta}`);
  }
  if (body.context_management !== undefined && !BETA_FIELDS.some(([beta, field]) => field === 'context_management' && betas.includes(beta))) {
    problems.push('context_management: "Extra inputs are not permitted" (its beta is missing)');
  }
  problems.push(...thinkingViolations('bedrock', body.messages, isRecord(body.thinking) ? body.thinking.type : undefined, ANTHROPIC_SHAPE));
  const edits = isRecord(body.context_management) ? body.context_management.edits : undefined;
  if (Array.isArray(edits)) {
    for (const e of edits) if (!isRecord(e) || e.type !== 'compact_20260112') problems.push(`context_management: unsupported edit ${JSON.stringify(e)}`);
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) problems.push('messages: Field required');
  else {
    body.messages.forEach((m, i) => {
      if (!isRecord(m)) return;
      for (const key of Object.keys(m)) if (key !== 'role' && key !== 'content') problems.push(`messages.${i}.${key}: "Extra inputs are not permitted"`);
    });
  }
  JSON.stringify(body, (key, value) => {
    if (key === 'cache_control' && isRecord(value) && 'scope' in value) problems.push('cache_control.scope: "Extra inputs are not permitted"');
    return value;
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------

function route(method: string, url: string): { operation: BedrockOperation; modelId: string | null } | null {
  const path = url.split('?')[0] ?? '';
  if (method === 'POST' && path === '/anthropic/v1/messages') return { operation: 'messages', modelId: null };
  const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/.exec(path);
  if (method !== 'POST' || !match) return null;
  return { operation: match[2] as BedrockOperation, modelId: decodeURIComponent(match[1]!) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let requestCounter = 0;

function sendError(res: ServerResponse, error: { name: string; message: string; status?: number }, requestId: string): void {
  const body = JSON.stringify({ message: error.message });
  res.writeHead(error.status ?? ERROR_STATUS[error.name] ?? 400, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${error.name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startFakeBedrock(): Promise<FakeBedrock> {
  const requests: RecordedBedrockRequest[] = [];
  const queues = new Map<string, FakeBedrockReply[]>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void serve(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks), res, req.socket.remotePort);
    });
  });

  async function serve(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
    remotePort: number | undefined,
  ): Promise<void> {
    const requestId = `00000000-0000-4000-8000-${String(++requestCounter).padStart(12, '0')}`;
    const found = route(method, url);
    let json: unknown;
    try {
      json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      json = undefined;
    }
    const modelId = found?.operation === 'messages' ? String((json as { model?: unknown } | undefined)?.model ?? '') : found?.modelId ?? null;
    const ended = new Promise<'finished' | 'closed'>((resolve) => {
      res.once('finish', () => resolve('finished'));
      res.once('close', () => resolve(res.writableFinished ? 'finished' : 'closed'));
    });
    requests.push({ operation: found?.operation ?? null, modelId, method, url, headers, body, json, remotePort, ended });
    if (!found) return sendError(res, { name: 'UnknownOperationException', message: `No route for ${method} ${url}`, status: 404 }, requestId);

    const reply = queues.get(found.operation)?.shift() ?? queues.get('*')?.shift() ?? defaultReply(found.operation, json);
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.error) return sendError(res, reply.error, requestId);

    if (reply.validate !== false) {
      const problems =
        found.operation === 'converse' || found.operation === 'converse-stream'
          ? converseRuleViolations(json)
          : found.operation === 'messages'
            ? messagesRuleViolations(json, headers['anthropic-beta'])
            : invokeRuleViolations(found.operation === 'count-tokens' ? countTokensInvokeJson(json) : json);
      if (problems.length > 0) return sendError(res, { name: 'ValidationException', message: problems.join('; ') }, requestId);
    }

    const status = reply.status ?? 200;
    const streamed =
      found.operation === 'converse-stream' ||
      found.operation === 'invoke-with-response-stream' ||
      (found.operation === 'messages' && (json as { stream?: unknown } | undefined)?.stream === true);
    const fallback = defaultReply(found.operation, json);

    if (!streamed) {
      const text = JSON.stringify(reply.body ?? fallback.body);
      const extra: Record<string, string> = {};
      if (found.operation === 'invoke') {
        const usage = (reply.body ?? fallback.body) as { usage?: { input_tokens?: number; output_tokens?: number } };
        extra['x-amzn-bedrock-input-token-count'] = String(usage.usage?.input_tokens ?? 0);
        extra['x-amzn-bedrock-output-token-count'] = String(usage.usage?.output_tokens ?? 0);
        extra['x-amzn-bedrock-invocation-latency'] = '40';
      }
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'content-length': Buffer.byteLength(text),
        ...extra,
        ...reply.headers,
      });
      res.end(text);
      return;
    }

    const sse = found.operation === 'messages';
    res.writeHead(status, {
      'content-type': sse ? 'text/event-stream' : 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': requestId,
      ...(found.operation === 'invoke-with-response-stream' ? { 'x-amzn-bedrock-content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.flushHeaders();
    const items: Array<Uint8Array | string> = sse
      ? (reply.sse ?? fallback.sse ?? []).map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
      : (reply.frames ?? fallback.frames ?? []).map(encodeFrame);
    for (let i = 0; i < items.length; i++) {
      if (reply.destroyAfterFrames !== undefined && i >= reply.destroyAfterFrames) {
        res.socket?.destroy();
        return;
      }
      if (reply.frameDelayMs && i > 0) await sleep(reply.frameDelayMs);
      if (res.destroyed) return;
      res.write(items[i]);
    }
    if (reply.destroyAfterFrames !== undefined && items.length >= reply.destroyAfterFrames) {
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(operation, ...replies) {
      const queue = queues.get(operation) ?? [];
      queue.push(...replies);
      queues.set(operation, queue);
    },
    reset() {
      queues.clear();
      requests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
