/**
 * The bearer path's wire format (src/bedrock/runtime-http.ts, event-stream.ts) against the official
 * AWS SDK, with no socket: the SDK client runs on a request handler that records what it would
 * send and answers with the bytes the fake Bedrock sends (test/fakes/bedrock.ts). For the same
 * request the path, headers and body must match the SDK's; for the same answer the decoded events,
 * the translator's SSE output (byte for byte) and the mapped errors must match.
 */

import { Readable } from 'node:stream';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type BedrockRuntimeClientConfig,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { formatSseEvent, type SseEvent } from '../../../src/anthropic/sse.ts';
import { parseBetaHeader } from '../../../src/bedrock/betas.ts';
import { buildConverseRequest } from '../../../src/bedrock/converse/request.ts';
import { translateConverseResponse } from '../../../src/bedrock/converse/response.ts';
import { createConverseStreamTranslator } from '../../../src/bedrock/converse/stream.ts';
import { mapBedrockError } from '../../../src/bedrock/errors.ts';
import { streamEvents, type StreamEvent } from '../../../src/bedrock/event-stream.ts';
import { buildInvokeBody } from '../../../src/bedrock/invoke.ts';
import { resolveBedrockModel } from '../../../src/bedrock/models.ts';
import { createNativeStreamTranslator } from '../../../src/bedrock/native-response.ts';
import {
  chunkBytes,
  converseBody,
  converseResponse,
  converseStreamEvent,
  encodeLabel,
  httpFailure,
  modelPath,
  operationHeaders,
  type RuntimeOperation,
} from '../../../src/bedrock/runtime-http.ts';
import { historyFor } from '../../../src/bedrock/thinking-provenance.ts';
import { anthropicTextEvents, encodeFrame, type FakeFrame } from '../../fakes/bedrock.ts';
import { messageToEvents, thinkingToolUseMessage } from '../../fakes/anthropic-messages.ts';
import type { ConverseStreamFixture } from './converse/stream.test.ts';
import { fixtureNames, readFixture } from './fixtures.ts';
import { rejection } from '../../support/rejection.ts';

const KEY = 'bedrock-api-key-ABSKQmVkcm9ja1Rlc3RLZXk=';
const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Answer {
  statusCode: number;
  headers?: Record<string, string>;
  /** The body, as the chunks the socket would deliver. */
  chunks: Uint8Array[];
}

/** An SDK client (bearer, as client.ts built it) whose handler records the request and answers `answer`. */
function sdkClient(answer: Answer = { statusCode: 200, chunks: [Buffer.from('{}')] }) {
  const sent: Sent[] = [];
  const requestHandler = {
    async handle(request: { method: string; path: string; headers: Record<string, string>; body?: unknown }) {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const body = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : String(request.body ?? '');
      sent.push({ method: request.method, path: request.path, headers, body });
      const response = { statusCode: answer.statusCode, headers: { 'x-amzn-requestid': 'req-1', ...answer.headers }, body: Readable.from(answer.chunks) };
      return { response };
    },
  } as unknown as BedrockRuntimeClientConfig['requestHandler'];
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    token: { token: KEY },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler,
  });
  return { client, sent };
}

/** The SDK's own telemetry headers, which Bedrock does not need. */
const SDK_ONLY = new Set(['user-agent', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'content-length', 'host']);
const meaningful = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([k]) => !SDK_ONLY.has(k)));

/** Waits for a call whose outcome does not matter (only what it sent). */
async function settle(promise: Promise<unknown>): Promise<void> {
  await promise.then(
    () => undefined,
    () => undefined,
  );
}

/** Splits `body` into chunks of `size` bytes (the last shorter), as a socket might. */
function chunked(body: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

const sse = (events: SseEvent[]) => events.map(formatSseEvent).join('');

// ---------------------------------------------------------------------------------------------
// Requests

const MODEL_IDS = [
  MODEL_ID,
  'anthropic.claude-3-haiku-20240307-v1:0',
  'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6',
  'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
  "odd id (v2)!*'~ é+&=?#",
];

const CONVERSE_INPUT = {
  messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
};

describe('requests: the same path, headers and body as the AWS SDK', () => {
  it.each(MODEL_IDS)('encodes the model id %s as the SDK encodes its label', async (modelId) => {
    const { client, sent } = sdkClient();
    const body = '{"anthropic_version":"bedrock-2023-05-31"}';
    await settle(client.send(new InvokeModelCommand({ modelId, body, contentType: 'application/json', accept: 'application/json' })));
    await settle(client.send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: 'application/json', accept: 'application/json' })));
    await settle(client.send(new ConverseCommand({ modelId, ...CONVERSE_INPUT })));
    await settle(client.send(new ConverseStreamCommand({ modelId, ...CONVERSE_INPUT })));
    const operations: RuntimeOperation[] = ['invoke', 'invoke-with-response-stream', 'converse', 'converse-stream'];
    expect(sent.map((s) => s.path)).toEqual(operations.map((op) => modelPath(modelId, op)));
    expect(decodeURIComponent(encodeLabel(modelId))).toBe(modelId);
    for (const [i, op] of operations.entries()) {
      expect(sent[i]!.method).toBe('POST');
      expect(meaningful(sent[i]!.headers)).toEqual({ ...operationHeaders(op), authorization: `Bearer ${KEY}` });
    }
    expect(sent[0]!.body).toBe(body);
    expect(sent[1]!.body).toBe(body);
  });

  const captures = [
    readFixture<AnthropicRequest>('claude-code/claude-code-request.json'),
    readFixture<{ body: AnthropicRequest }>('claude-code/claude-code-request-turn2.json').body,
    ...fixtureNames('claude-code/replay').map((name) => readFixture<{ body: AnthropicRequest }>(`claude-code/replay/${name}.json`).body),
  ];

  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  const withBlobs: AnthropicRequest = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    thinking: { type: 'enabled', budget_tokens: 1024 },
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: Buffer.from('%PDF-1.4 fake').toString('base64') }, title: 'spec' },
          { type: 'text', text: 'What is this?' },
        ],
      },
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: Buffer.from('opaque-redacted-bytes').toString('base64') }, { type: 'text', text: 'A pixel.' }] },
      { role: 'user', content: 'And now?' },
    ],
    temperature: 1,
  } as AnthropicRequest;

  it.each([...captures.map((body, i) => [`capture ${i}`, body] as const), ['images, a document and redacted thinking', withBlobs] as const])(
    'serialises the Converse input for %s as the SDK does',
    async (_name, request) => {
      const history = historyFor(request, 'bedrock').request;
      const modelId = resolveBedrockModel(history.model, 'us-east-1').modelId;
      const { input } = buildConverseRequest(history, { modelId, betas: parseBetaHeader('interleaved-thinking-2025-05-14') });
      const { client, sent } = sdkClient();
      await settle(client.send(new ConverseStreamCommand(input)));
      await settle(client.send(new ConverseCommand(input)));
      const ours = converseBody(input);
      for (const request of sent) expect(JSON.parse(ours)).toStrictEqual(JSON.parse(request.body));
    },
  );

  it('serialises an InvokeModel body unchanged (the SDK sends the string as it is)', async () => {
    const request = readFixture<AnthropicRequest>('claude-code/claude-code-request.json');
    const body = JSON.stringify(buildInvokeBody(historyFor(request, 'bedrock').request, { betas: [] }).body);
    const { client, sent } = sdkClient();
    await settle(client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL_ID, body, contentType: 'application/json', accept: 'application/json' })));
    expect(sent[0]!.body).toBe(body);
  });
});

// ---------------------------------------------------------------------------------------------
// Stream answers

const STREAM_HEADERS = { 'content-type': 'application/vnd.amazon.eventstream' };

async function ours<T>(chunks: Uint8Array[], map: (event: StreamEvent) => T | null) {
  const mapped = (async function* () {
    for await (const event of streamEvents((async function* () { yield* chunks; })())) {
      const out = map(event);
      if (out !== null) yield out;
    }
  })();
  return drain(mapped);
}

const converseFixtures = fixtureNames('bedrock/converse-stream').map((name) => [name, readFixture<ConverseStreamFixture>(`bedrock/converse-stream/${name}.json`)] as const);

/** Extra ConverseStream frames the fixtures lack: an unknown member (skipped by the SDK), stop fields, trace. */
const extraFrames: FakeFrame[] = [
  { event: 'messageStart', payload: { role: 'assistant' } },
  { event: 'somethingNew', payload: { value: 1 } },
  { event: 'contentBlockStart', payload: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tooluse_1', name: 'Read' } } } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: '{"a":' } } } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { toolUse: { input: '1}' } } } },
  { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
  { event: 'messageStop', payload: { stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: 'END', nested: [1, null, { x: 'y' }] } } },
  { event: 'metadata', payload: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 5 }, trace: { promptRouter: { invokedModelId: 'm' } } } },
  { errorCode: 'InternalFailure', errorMessage: 'after the end' },
];

describe('ConverseStream answers: the same events as the SDK', () => {
  it.each([...converseFixtures.map(([name, f]) => [name, f.frames] as const), ['unknown member, stop fields, trace, error frame', extraFrames] as const])(
    '%s',
    async (_name, frames) => {
      const body = Buffer.concat(frames.map(encodeFrame));
      for (const size of [body.length, 64, 7]) {
        const chunks = chunked(body, size);
        const { client } = sdkClient({ statusCode: 200, headers: STREAM_HEADERS, chunks });
        let sdk: { items: ConverseStreamOutput[]; error: unknown };
        try {
          const out = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, ...CONVERSE_INPUT }));
          sdk = await drain(out.stream!);
        } catch (error) {
          sdk = { items: [], error }; // the SDK reads the first event before resolving
        }
        const mine = await ours(chunks, converseStreamEvent);
        expect(mine.items).toStrictEqual(sdk.items);
        expect(mine.error === undefined).toBe(sdk.error === undefined);
        if (sdk.error !== undefined) expect(mapBedrockError(mine.error)).toEqual(mapBedrockError(sdk.error));

        // And what the client finally gets, byte for byte.
        const translate = (events: ConverseStreamOutput[], error: unknown) => {
          const translator = createConverseStreamTranslator({ model: 'claude-sonnet-4-5', messageId: 'msg_bdrk_01Differential000000000' });
          const out = events.flatMap((e) => translator.push(e));
          out.push(...(error === undefined ? translator.finish() : translator.fail(error)));
          return sse(out);
        };
        expect(translate(mine.items, mine.error)).toBe(translate(sdk.items, sdk.error));
      }
    },
  );
});

const nativeMessage = thinkingToolUseMessage({
  model: MODEL_ID,
  thinking: 'The user wants the README.',
  signature: 'EqMBCkYIBxgCKkBTaWduYXR1cmU=',
  text: "I'll read it first. ünïcødé ✓",
  tool: { id: 'toolu_bdrk_01', name: 'Read', input: { file_path: '/repo/README.md' } },
});
const invokeStreams: Array<readonly [string, FakeFrame[]]> = [
  ['a text answer with metrics', anthropicTextEvents('hello from bedrock').map((chunk) => ({ chunk }))],
  ['thinking, text and a chunked tool call', messageToEvents(nativeMessage, { jsonChunks: 4, textChunks: 3 }).map((e) => ({ chunk: e.data as Record<string, unknown> }))],
  ['an exception mid-stream', [...anthropicTextEvents('x').slice(0, 3).map((chunk) => ({ chunk })), { exception: 'modelStreamErrorException', message: 'The model stream broke' }]],
  ['an exception first', [{ exception: 'throttlingException', message: 'Too many tokens' }]],
];

describe('InvokeModelWithResponseStream answers: the same chunk bytes as the SDK', () => {
  it.each(invokeStreams)('%s', async (_name, frames) => {
    const body = Buffer.concat(frames.map(encodeFrame));
    for (const size of [body.length, 50, 3]) {
      const chunks = chunked(body, size);
      const { client } = sdkClient({ statusCode: 200, headers: { ...STREAM_HEADERS, 'x-amzn-bedrock-content-type': 'application/json' }, chunks });
      let sdk: { items: Uint8Array[]; error: unknown };
      try {
        const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL_ID, body: '{}', contentType: 'application/json' }));
        const drained = await drain(out.body!);
        sdk = { items: drained.items.map((e) => e.chunk!.bytes!), error: drained.error };
      } catch (error) {
        sdk = { items: [], error };
      }
      const mine = await ours(chunks, chunkBytes);
      expect(mine.items.map((b) => Buffer.from(b).toString('utf8'))).toEqual(sdk.items.map((b) => Buffer.from(b).toString('utf8')));
      expect(mine.error === undefined).toBe(sdk.error === undefined);
      if (sdk.error !== undefined) expect(mapBedrockError(mine.error)).toEqual(mapBedrockError(sdk.error));

      const translate = (items: Uint8Array[], error: unknown) => {
        const translator = createNativeStreamTranslator({ model: 'claude-sonnet-4-5' });
        const out = items.flatMap((b) => translator.push(b));
        out.push(...(error === undefined ? translator.finish() : translator.fail(error)));
        return sse(out);
      };
      expect(translate(mine.items, mine.error)).toBe(translate(sdk.items, sdk.error));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// JSON answers and errors

describe('Converse JSON answers: the same ConverseResponse as the SDK', () => {
  const answer = {
    output: {
      message: {
        role: 'assistant',
        content: [
          { reasoningContent: { reasoningText: { text: 'Thinking.', signature: 'c2lnbmF0dXJl' } } },
          { reasoningContent: { redactedContent: Buffer.from('redacted bytes').toString('base64') } },
          { text: 'Hello.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'Read', input: { file_path: '/x', flags: [true, null, 1.5] } } },
          { citationsContent: { content: [{ text: 'cited' }], citations: [{ title: 'doc', sourceContent: [{ text: 'cited' }], location: { documentChar: { documentIndex: 0, start: 1, end: 6 } } }] } },
        ],
      },
    },
    stopReason: 'tool_use',
    usage: { inputTokens: 9, outputTokens: 40, totalTokens: 6949, cacheReadInputTokens: 5400, cacheWriteInputTokens: 1500, cacheDetails: [{ ttl: '1h', inputTokens: 300 }] },
    metrics: { latencyMs: 420 },
    additionalModelResponseFields: { stop_sequence: null, extra: { a: [1, 2] } },
  };

  it('decodes blobs and keeps documents as they are', async () => {
    const text = JSON.stringify(answer);
    const { client } = sdkClient({ statusCode: 200, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(text)] });
    const { $metadata, ...sdk } = await client.send(new ConverseCommand({ modelId: MODEL_ID, ...CONVERSE_INPUT }));
    expect($metadata.requestId).toBe('req-1');
    const mine = converseResponse(text);
    expect(mine).toStrictEqual(sdk);
    const options = { model: 'claude-sonnet-4-5', messageId: 'msg_bdrk_01Differential000000000' };
    expect(JSON.stringify(translateConverseResponse(mine, options))).toBe(JSON.stringify(translateConverseResponse(sdk, options)));
  });
});

describe('HTTP errors: the same failure as the SDK', () => {
  const cases: Array<[string, Answer]> = [
    ['x-amzn-errortype with a URI', { statusCode: 429, headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' }, chunks: [Buffer.from('{"message":"Too many requests"}')] }],
    ['a body `__type` with a namespace', { statusCode: 400, chunks: [Buffer.from('{"__type":"com.amazon.bedrock#ValidationException","Message":"Input is too long for requested model."}')] }],
    ['a body `code`', { statusCode: 403, chunks: [Buffer.from('{"code":"AccessDeniedException","message":"no access"}')] }],
    ['an unknown exception with its status', { statusCode: 418, headers: { 'x-amzn-errortype': 'TeapotException' }, chunks: [Buffer.from('{"message":"short and stout"}')] }],
    ['a modelled name over its status', { statusCode: 400, headers: { 'x-amzn-errortype': 'ServiceUnavailableException' }, chunks: [Buffer.from('{"message":"busy"}')] }],
  ];

  it.each(cases)('%s', async (_name, answer) => {
    const { client } = sdkClient({ ...answer, headers: { 'content-type': 'application/json', ...answer.headers } });
    for (const command of [new ConverseCommand({ modelId: MODEL_ID, ...CONVERSE_INPUT }), new InvokeModelCommand({ modelId: MODEL_ID, body: '{}' })]) {
      const err = await rejection(client.send(command as ConverseCommand));
      const headers = { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1', ...answer.headers };
      expect(httpFailure(answer.statusCode, headers, Buffer.concat(answer.chunks).toString('utf8'))).toEqual(mapBedrockError(err));
    }
  });

  it('names no exception when Bedrock named none (the SDK calls it `Unknown`); status and code are the same', async () => {
    const answer: Answer = { statusCode: 503, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{"message":"Service Unavailable"}')] };
    const { client } = sdkClient(answer);
    const sdk = mapBedrockError(await rejection(client.send(new ConverseCommand({ modelId: MODEL_ID, ...CONVERSE_INPUT }))));
    const mine = httpFailure(503, { 'content-type': 'application/json' }, '{"message":"Service Unavailable"}');
    expect(mine).toEqual({ ...sdk, exception: null });
    expect(sdk.exception).toBe('Unknown');
  });

  it('classifies a body that is not JSON by its status (the SDK fails to parse it)', () => {
    expect(httpFailure(502, {}, '<html>Bad Gateway</html>')).toMatchObject({ status: 500, code: 'BEDROCK_HTTP_502', message: 'Amazon Bedrock answered HTTP 502' });
    expect(httpFailure(503, {}, '')).toMatchObject({ status: 529, type: 'overloaded_error', code: 'BEDROCK_HTTP_503' });
  });
});
