/**
 * InvokeModel and Converse over plain HTTP, for calls with a Bedrock API key (docs/upstream-apis.md
 * §2.1): the requests the AWS SDK (`@aws-sdk/client-bedrock-runtime`, restJson1) would send, and
 * its answers read into the shapes the SDK would return, so the translators cannot tell the
 * difference. test/unit/bedrock/runtime-http.test.ts compares both against the SDK itself.
 */

import type { ContentBlockDelta, ConverseResponse, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { Dispatcher } from 'undici';
import { headerValue } from '../anthropic/headers.ts';
import type { ConverseInput } from './converse/request.ts';
import { BedrockTranslationError, exceptionNameFromHeader, mapBedrockError, type BedrockFailure } from './errors.ts';
import type { StreamEvent } from './event-stream.ts';

export type RuntimeOperation = 'invoke' | 'invoke-with-response-stream' | 'converse' | 'converse-stream';

/** The SDK's encoding of an HTTP label (`@smithy/core` `extendedEncodeURIComponent`): `:` and `/` escaped, and `!'()*` too. */
export function encodeLabel(value: string): string {
  if (/^[\w.~-]+$/.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function modelPath(modelId: string, operation: RuntimeOperation): string {
  return `/model/${encodeLabel(modelId)}/${operation}`;
}

/**
 * The headers the SDK sends for each operation (besides authorization and its own telemetry):
 * InvokeModel's `accept` member is `Accept` on `/invoke` but `X-Amzn-Bedrock-Accept` on the stream,
 * whose own `Accept` would be the event stream's.
 */
export function operationHeaders(operation: RuntimeOperation): Record<string, string> {
  switch (operation) {
    case 'invoke':
      return { 'content-type': 'application/json', accept: 'application/json' };
    case 'invoke-with-response-stream':
      return { 'content-type': 'application/json', 'x-amzn-bedrock-accept': 'application/json' };
    default:
      return { 'content-type': 'application/json' };
  }
}

/**
 * A Converse input as the SDK writes its body: `modelId` is in the path, blobs (`Uint8Array`:
 * image, document and redacted-reasoning bytes) are base64. The input's types admit no `null` in
 * a structure and no member the service does not know, so nothing else differs but key order.
 */
export function converseBody(input: ConverseInput): string {
  const { modelId: _modelId, ...body } = input;
  return JSON.stringify(body, function (this: Record<string, unknown>, key, value: unknown) {
    // `value` is already a Buffer's toJSON() form; the holder still has the bytes.
    const original = this[key];
    return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') : value;
  });
}

// ---------------------------------------------------------------------------------------------
// Errors

function findKey(object: Record<string, unknown>, name: string): string | undefined {
  return Object.keys(object).find((key) => key.toLowerCase() === name);
}

/**
 * A non-2xx answer, read as the SDK reads a restJson1 error: the exception name from
 * `x-amzn-errortype`, else the body's `code`, else its `__type`; the message from `message` or
 * `Message` (or, from the Messages endpoint, Anthropic's `error.message`). Classified by
 * mapBedrockError, so statuses and codes are those of the SDK path.
 */
export function httpFailure(status: number, headers: Dispatcher.ResponseData['headers'], text: string): BedrockFailure {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's HTML page): the status alone classifies it
  }
  const codeKey = findKey(body, 'code');
  const code = codeKey === undefined ? undefined : body[codeKey];
  const name =
    headerValue(headers['x-amzn-errortype']) ?? (code !== undefined ? String(code) : body.__type !== undefined ? String(body.__type) : undefined);
  const rawMessage = body.message ?? body.Message ?? (body.error as { message?: unknown } | undefined)?.message;
  const message = typeof rawMessage === 'string' && rawMessage !== '' ? rawMessage : `Amazon Bedrock answered HTTP ${status}`;
  const exception = exceptionNameFromHeader(name);
  return mapBedrockError({ status, message, ...(exception ? { name: exception } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Answers

const decoder = new TextDecoder();

function parseJson(payload: Uint8Array | string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
  } catch {
    throw new BedrockTranslationError('BEDROCK_BAD_RESPONSE', what, `Amazon Bedrock sent ${what} that is not JSON`);
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const fromBase64 = (value: unknown): unknown => (typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value);

/** Copies the named members that are present (the SDK drops null and unknown members of a structure). */
function pick(source: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (source[name] != null) out[name] = source[name];
  return out;
}

/** An InvokeModelWithResponseStream `chunk` event: its `bytes`, base64-decoded (the Anthropic event's JSON). */
export function chunkBytes(event: StreamEvent): Uint8Array | null {
  if (event.type !== 'chunk') return null; // an unknown member: the SDK skips it
  const bytes = parseJson(event.payload, 'a stream event').bytes;
  return typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : null;
}

const EVENT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  messageStart: ['role'],
  contentBlockStart: ['start', 'contentBlockIndex'],
  contentBlockDelta: ['delta', 'contentBlockIndex'],
  contentBlockStop: ['contentBlockIndex'],
  messageStop: ['stopReason', 'additionalModelResponseFields'],
  metadata: ['usage', 'metrics', 'trace', 'performanceConfig', 'serviceTier'],
};

/**
 * A ConverseStream event as the SDK yields it: `{ [member]: payload }` with the member's known
 * fields (the `p` padding gone) and blobs decoded. Null for a member the SDK does not know (it
 * skips those). Nested structures are passed as parsed; the translator reads only known fields.
 */
export function converseStreamEvent(event: StreamEvent): ConverseStreamOutput | null {
  const members = EVENT_MEMBERS[event.type];
  if (!members) return null;
  const payload = pick(parseJson(event.payload, 'a stream event'), members);
  if (event.type === 'contentBlockDelta') {
    const delta = payload.delta as ContentBlockDelta | undefined;
    const redacted: unknown = delta?.reasoningContent?.redactedContent;
    if (typeof redacted === 'string') payload.delta = { reasoningContent: { redactedContent: fromBase64(redacted) } };
  }
  // The payload is Bedrock's JSON for this member, which the SDK does not check either.
  return { [event.type]: payload } as unknown as ConverseStreamOutput;
}

/** Blob members of a Converse content block (image, document, video and redacted reasoning bytes). */
function decodeBlock(block: Record<string, unknown>): void {
  const reasoning = block.reasoningContent as Record<string, unknown> | undefined;
  if (reasoning && typeof reasoning.redactedContent === 'string') reasoning.redactedContent = fromBase64(reasoning.redactedContent);
  for (const kind of ['image', 'document', 'video'] as const) {
    const source = (block[kind] as { source?: Record<string, unknown> } | undefined)?.source;
    if (source && typeof source.bytes === 'string') source.bytes = fromBase64(source.bytes);
  }
}

/** A Converse JSON answer in the SDK's `ConverseResponse` shape: blobs decoded, documents as they are. */
export function converseResponse(text: string): ConverseResponse {
  const body = parseJson(text, 'a response body');
  const content = (body.output as { message?: { content?: unknown } } | undefined)?.message?.content;
  if (Array.isArray(content)) for (const block of content) if (block && typeof block === 'object') decodeBlock(block as Record<string, unknown>);
  return pick(body, ['output', 'stopReason', 'usage', 'metrics', 'additionalModelResponseFields', 'trace', 'performanceConfig', 'serviceTier']) as unknown as ConverseResponse;
}
