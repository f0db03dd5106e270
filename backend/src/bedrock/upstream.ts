/**
 * What the proxy's router calls to serve one request from Amazon Bedrock.
 *
 * `send()` translates the client's parsed body for the configured mode, calls Bedrock through the
 * shared clients (client.ts), and answers in Anthropic's exact shape: the `model` the client asked
 * for, a real `msg_` id, SSE with `event:` lines, usage with cache reads and writes.
 *
 * - Everything that fails before the answer starts — translation (unknown model, content Bedrock
 *   cannot carry), HTTP errors, throttling, connect errors, and an exception frame that arrives
 *   as the first stream event — rejects with `BedrockCallError` (`beforeFirstByte: true`): the
 *   first stream event is pulled before `send()` resolves, so an immediately throttled stream is
 *   still a clean HTTP error the router can fall back from or pass on.
 * - After that, `events` never throws: a mid-stream failure is yielded as one `event: error` and
 *   is readable from `failure()`; the iterable ends after `message_stop` (or the error).
 * - The call's signal aborts Bedrock at once and releases the connection; so does leaving the
 *   `events` loop early (`break` / `return()`).
 * - A call with a Bedrock API key goes out as plain HTTP on the shared undici Agent (runtime-http.ts,
 *   event-stream.ts); the AWS SDK serves SigV4 calls and CountTokens.
 */

import {
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ConverseStreamOutput,
  type ResponseStream,
} from '@aws-sdk/client-bedrock-runtime';
import type { Dispatcher } from 'undici';
import { headerValue } from '../anthropic/headers.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import { parseBetaHeader } from './betas.ts';
import { BedrockConfigError, createBedrockClients, type BedrockAuth, type BedrockClientOptions } from './client.ts';
import { buildConverseRequest } from './converse/request.ts';
import { translateConverseResponse } from './converse/response.ts';
import { createConverseStreamTranslator } from './converse/stream.ts';
import { BedrockTranslationError, mapBedrockError, type BedrockFailure } from './errors.ts';
import { buildInvokeBody } from './invoke.ts';
import { buildMessagesRequest } from './messages.ts';
import { resolveBedrockModel, type ModelMapping } from './models.ts';
import { createNativeStreamTranslator, translateNativeResponse } from './native-response.ts';
import { streamEventBatches, type StreamEvent } from './event-stream.ts';
import {
  chunkBytes,
  converseBody,
  converseResponse,
  converseStreamEvent,
  httpFailure,
  modelPath,
  operationHeaders,
  type RuntimeOperation,
} from './runtime-http.ts';
import { createSseParser, type SseEvent } from '../anthropic/sse.ts';
import { BedrockCallError, callError, emptyStream, jsonResponse, linkAbort, openStream, type BedrockResponse, type CallAbort } from './call-response.ts';

export { BedrockCallError, type BedrockOutcome, type BedrockResponse } from './call-response.ts';

export type BedrockMode = 'invoke' | 'converse' | 'messages';

export interface BedrockCall {
  /** The client's parsed body (parsed once by the route; not parsed again here). */
  request: AnthropicRequest;
  /** The client's `anthropic-beta` header, as received. */
  betaHeader: string | string[] | undefined;
  stream: boolean;
  /** The decrypted Bedrock API key (Bearer); null only when `auth` is `sigv4` (then SigV4 signs). */
  apiKey: string | null;
  /** The access key's Bedrock region. */
  region: string;
  /** Admin override rows (may be empty); they win over the shipped defaults. */
  mappings: readonly ModelMapping[];
  /** The Bedrock model id, when the caller resolved it already (from the same region and mappings). */
  modelId?: string;
  /** Fires when the client went away: Bedrock is aborted at once. */
  signal: AbortSignal;
}

/** A count_tokens request: the call's fields but `stream` (CountTokens always answers JSON). */
export type BedrockCountTokensCall = Omit<BedrockCall, 'stream'>;

export interface BedrockTokenCount {
  inputTokens: number;
  /** The Bedrock model id that counted (the profile id, or the base id when the profile was refused). */
  servedModel: string;
  upstreamRequestId: string | null;
}

/** `failure.code` when Bedrock cannot count tokens for the model: the route answers 404 (clients then estimate). */
export const COUNT_TOKENS_UNSUPPORTED = 'BEDROCK_COUNT_TOKENS_UNSUPPORTED';

export interface BedrockUpstream {
  send(call: BedrockCall): Promise<BedrockResponse>;
  /**
   * Bedrock's CountTokens on the native InvokeModel body, whatever the mode: rejects with
   * `BedrockCallError` (code `COUNT_TOKENS_UNSUPPORTED` when the model cannot count).
   */
  countTokens(call: BedrockCountTokensCall): Promise<BedrockTokenCount>;
  close(): Promise<void>;
}

export interface BedrockUpstreamOptions extends Omit<BedrockClientOptions, 'auth' | 'endpoint'> {
  mode: BedrockMode;
  /** `BEDROCK_ENDPOINT`. */
  endpoint?: string;
  auth: BedrockAuth;
}

const KEY_MISSING: BedrockFailure = {
  status: 403,
  type: 'permission_error',
  code: 'BEDROCK_KEY_MISSING',
  message: 'This access key has no Amazon Bedrock API key; ask an administrator to add one',
  exception: null,
};

/**
 * Bedrock says the model cannot count tokens (`ValidationException`, "The provided model doesn't
 * support counting tokens."). CountTokens has no exception of its own for this, so unlike
 * mapBedrockError this has to read the message.
 */
function countingUnsupported(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { name, message } = err as { name?: unknown; message?: unknown };
  if (name !== 'ValidationException' || typeof message !== 'string') return false;
  return /count/i.test(message) && /support/i.test(message);
}

/** Bedrock refused the model id itself ("The provided model identifier is invalid."). */
function modelIdRefused(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { name, message } = err as { name?: unknown; message?: unknown };
  return name === 'ValidationException' && typeof message === 'string' && /model identifier|invalid model/i.test(message);
}

/** SSE events from an undici body (the Messages endpoint). */
async function* sseEvents(body: Dispatcher.ResponseData['body']): AsyncGenerator<SseEvent> {
  const parser = createSseParser();
  for await (const chunk of body as AsyncIterable<Buffer>) yield* parser.push(chunk);
  yield* parser.end();
}

/** A 2xx answer as it is; any other rejects with its error (the body read, so the socket is reused). */
async function succeeded(res: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData> {
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  const text = await res.body.text().catch(() => '');
  throw new BedrockCallError(httpFailure(res.statusCode, res.headers, text));
}

export function createBedrockUpstream(options: BedrockUpstreamOptions): BedrockUpstream {
  const { mode, ...clientOptions } = options;
  if (mode === 'messages' && options.auth === 'sigv4') {
    throw new BedrockConfigError(
      "BEDROCK_API=messages needs BEDROCK_AUTH=bearer: the proxy signs Bedrock's Messages endpoint only with Bedrock API keys",
    );
  }
  const clients = createBedrockClients(clientOptions);

  /** POSTs an operation with the call's Bedrock API key. */
  function post(call: BedrockCall, apiKey: string, modelId: string, operation: RuntimeOperation, body: string, link: CallAbort) {
    const sent = clients.post({ region: call.region, apiKey, path: modelPath(modelId, operation), body, headers: operationHeaders(operation), signal: link.signal });
    return sent.then(succeeded);
  }

  const requestIdOf = (res: Dispatcher.ResponseData) => headerValue(res.headers['x-amzn-requestid']) ?? null;
  const batchesOf = (res: Dispatcher.ResponseData) => streamEventBatches(res.body as AsyncIterable<Buffer>);
  /** One body chunk's events translated together, so they leave in one write. */
  const each = (apply: (event: StreamEvent) => SseEvent[]) => (batch: StreamEvent[]) => (batch.length === 1 ? apply(batch[0]!) : batch.flatMap(apply));

  async function invoke(call: BedrockCall, modelId: string, betas: string[], link: CallAbort): Promise<BedrockResponse> {
    const built = buildInvokeBody(call.request, { betas });
    const body = JSON.stringify(built.body);
    const model = call.request.model;
    if (call.apiKey !== null) {
      const res = await post(call, call.apiKey, modelId, call.stream ? 'invoke-with-response-stream' : 'invoke', body, link);
      const served = { servedModel: modelId, upstreamRequestId: requestIdOf(res), droppedBetas: built.droppedBetas };
      if (!call.stream) {
        const translated = translateNativeResponse(await res.body.text(), { model });
        return jsonResponse(served, translated.json, translated.usage, translated.message.stop_reason);
      }
      const translator = createNativeStreamTranslator({ model });
      const apply = (event: StreamEvent): SseEvent[] => {
        const bytes = chunkBytes(event);
        return bytes ? translator.push(bytes) : [];
      };
      return openStream(batchesOf(res), each(apply), translator, link, served);
    }
    const client = clients.runtime(call.region, call.apiKey);
    const input = { modelId, body, contentType: 'application/json', accept: 'application/json' };
    if (!call.stream) {
      const out = await client.send(new InvokeModelCommand(input), { abortSignal: link.signal });
      const served = { servedModel: modelId, upstreamRequestId: out.$metadata.requestId ?? null, droppedBetas: built.droppedBetas };
      const translated = translateNativeResponse(out.body, { model });
      return jsonResponse(served, translated.json, translated.usage, translated.message.stop_reason);
    }
    const out = await client.send(new InvokeModelWithResponseStreamCommand(input), { abortSignal: link.signal });
    const served = { servedModel: modelId, upstreamRequestId: out.$metadata.requestId ?? null, droppedBetas: built.droppedBetas };
    const translator = createNativeStreamTranslator({ model });
    const apply = (item: ResponseStream): SseEvent[] => {
      if (item.chunk?.bytes) return translator.push(item.chunk.bytes);
      // The SDK throws modelled exceptions itself; a member that still arrives is one too.
      const member = Object.entries(item).find(([key, value]) => key !== 'chunk' && key !== '$unknown' && value);
      if (member) return translator.fail({ name: member[0], message: (member[1] as { message?: string }).message });
      return [];
    };
    return openStream(out.body ?? emptyStream<ResponseStream>(), apply, translator, link, served);
  }

  async function converse(call: BedrockCall, modelId: string, betas: string[], link: CallAbort): Promise<BedrockResponse> {
    const built = buildConverseRequest(call.request, { modelId, betas });
    const model = call.request.model;
    if (call.apiKey !== null) {
      const res = await post(call, call.apiKey, modelId, call.stream ? 'converse-stream' : 'converse', converseBody(built.input), link);
      const served = { servedModel: modelId, upstreamRequestId: requestIdOf(res), droppedBetas: built.droppedBetas };
      if (!call.stream) {
        const translated = translateConverseResponse(converseResponse(await res.body.text()), { model });
        return jsonResponse(served, JSON.stringify(translated.message), translated.usage, translated.message.stop_reason);
      }
      const translator = createConverseStreamTranslator({ model });
      const apply = (event: StreamEvent): SseEvent[] => {
        const output = converseStreamEvent(event);
        return output ? translator.push(output) : [];
      };
      return openStream(batchesOf(res), each(apply), translator, link, served);
    }
    const client = clients.runtime(call.region, call.apiKey);
    if (!call.stream) {
      const out = await client.send(new ConverseCommand(built.input), { abortSignal: link.signal });
      const served = { servedModel: modelId, upstreamRequestId: out.$metadata.requestId ?? null, droppedBetas: built.droppedBetas };
      const translated = translateConverseResponse(out, { model });
      return jsonResponse(served, JSON.stringify(translated.message), translated.usage, translated.message.stop_reason);
    }
    const out = await client.send(new ConverseStreamCommand(built.input), { abortSignal: link.signal });
    const served = { servedModel: modelId, upstreamRequestId: out.$metadata.requestId ?? null, droppedBetas: built.droppedBetas };
    const translator = createConverseStreamTranslator({ model });
    const apply = (event: ConverseStreamOutput) => translator.push(event);
    return openStream(out.stream ?? emptyStream<ConverseStreamOutput>(), apply, translator, link, served);
  }

  async function messages(call: BedrockCall, modelId: string, betas: string[], link: CallAbort): Promise<BedrockResponse> {
    const built = buildMessagesRequest(call.request, { modelId, betas, host: 'runtime' });
    if (call.stream) built.body.stream = true;
    else delete built.body.stream;
    const res = await clients.messages({
      region: call.region,
      apiKey: call.apiKey as string, // checked in send(): messages mode is bearer-only
      body: JSON.stringify(built.body),
      headers: built.headers,
      stream: call.stream,
      signal: link.signal,
    });
    await succeeded(res);
    const served = { servedModel: modelId, upstreamRequestId: requestIdOf(res), droppedBetas: built.droppedBetas };
    const model = call.request.model;
    if (!call.stream) {
      const translated = translateNativeResponse(await res.body.text(), { model });
      return jsonResponse(served, translated.json, translated.usage, translated.message.stop_reason);
    }
    const translator = createNativeStreamTranslator({ model });
    return openStream(sseEvents(res.body), (event) => translator.push(event.data), translator, link, served);
  }

  const byMode = { invoke, converse, messages } as const;

  return {
    async send(call) {
      const link = linkAbort(call.signal);
      try {
        if (call.apiKey === null && (options.auth !== 'sigv4' || mode === 'messages')) throw new BedrockCallError(KEY_MISSING);
        const modelId = call.modelId ?? resolveBedrockModel(call.request.model, call.region, call.mappings).modelId;
        const betas = parseBetaHeader(call.betaHeader);
        const response = await byMode[mode](call, modelId, betas, link);
        if (response.kind === 'json') link.unlink();
        return response;
      } catch (err) {
        link.unlink();
        throw callError(err, link);
      }
    },
    async countTokens(call) {
      const link = linkAbort(call.signal);
      try {
        if (call.apiKey === null && options.auth !== 'sigv4') throw new BedrockCallError(KEY_MISSING);
        const resolved = resolveBedrockModel(call.request.model, call.region, call.mappings);
        const built = buildInvokeBody(call.request, { betas: parseBetaHeader(call.betaHeader) });
        // CountTokens checks the body as an InvokeModel body, which requires max_tokens; a
        // count_tokens request has none. It does not change the count.
        if (built.body.max_tokens === undefined) built.body.max_tokens = 1;
        const input = { invokeModel: { body: new TextEncoder().encode(JSON.stringify(built.body)) } };
        const client = clients.runtime(call.region, call.apiKey);
        const count = (modelId: string) => client.send(new CountTokensCommand({ modelId, input }), { abortSignal: link.signal });
        let modelId = resolved.modelId;
        let out;
        try {
          out = await count(modelId);
        } catch (err) {
          // CountTokens has refused cross-region inference-profile ids for models it counts by
          // their base id: one more try with the base id before giving up.
          if (resolved.geography === null || link.clientGone() || !(countingUnsupported(err) || modelIdRefused(err))) throw err;
          modelId = resolved.baseId;
          out = await count(modelId);
        }
        if (typeof out.inputTokens !== 'number') {
          throw new BedrockTranslationError('BEDROCK_BAD_RESPONSE', 'inputTokens', 'Amazon Bedrock answered CountTokens without inputTokens');
        }
        return { inputTokens: out.inputTokens, servedModel: modelId, upstreamRequestId: out.$metadata.requestId ?? null };
      } catch (err) {
        if (countingUnsupported(err) && !link.clientGone()) {
          const message = String((err as { message?: unknown }).message);
          throw new BedrockCallError({ status: 404, type: 'not_found_error', code: COUNT_TOKENS_UNSUPPORTED, message, exception: 'ValidationException' });
        }
        throw callError(err, link);
      } finally {
        link.unlink();
      }
    },
    close: () => clients.close(),
  };
}
