/**
 * Conformance of the fake Bedrock (test/fakes/bedrock.ts) against the official AWS SDK, driven
 * directly: all four operations decode, the Bedrock API key arrives as a Bearer token, errors and
 * mid-stream exception frames become the SDK's own exceptions, and a ConverseStream fixture
 * decodes to exactly what the unit tests feed the translator (`wireEventToSdk`). With that, the
 * proxy's integration tests can trust the fake, and the unit tests can trust their fixtures.
 */

import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ModelStreamErrorException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type ConverseStreamOutput,
  type Message,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnthropicRequest } from '../../src/anthropic/wire.ts';
import { parseBetaHeader } from '../../src/bedrock/betas.ts';
import { buildConverseRequest } from '../../src/bedrock/converse/request.ts';
import { createConverseStreamTranslator } from '../../src/bedrock/converse/stream.ts';
import { mapBedrockError } from '../../src/bedrock/errors.ts';
import { historyFor } from '../../src/bedrock/thinking-provenance.ts';
import { buildInvokeBody } from '../../src/bedrock/invoke.ts';
import { resolveBedrockModel } from '../../src/bedrock/models.ts';
import { buildMessagesRequest } from '../../src/bedrock/messages.ts';
import { createNativeStreamTranslator, translateNativeResponse } from '../../src/bedrock/native-response.ts';
import { createSseParser } from '../../src/anthropic/sse.ts';
import { anthropicTextEvents, startFakeBedrock, wireEventToSdk, type FakeBedrock } from '../fakes/bedrock.ts';
import { fixtureNames, readFixture } from '../unit/bedrock/fixtures.ts';
import type { ConverseStreamFixture } from '../unit/bedrock/converse/stream.test.ts';
import { rejection } from '../support/rejection.ts';

let fake: FakeBedrock;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  fake = await startFakeBedrock();
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: fake.url,
    token: { token: 'k' },
    authSchemePreference: ['httpBearerAuth'],
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
});
afterEach(() => fake.reset());
afterAll(async () => {
  client.destroy();
  await fake.close();
});

const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const decoder = new TextDecoder();

async function collect<T>(stream: AsyncIterable<T> | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const event of stream ?? []) out.push(event);
  return out;
}

describe('the AWS SDK against the fake Bedrock', () => {
  it('Converse decodes, and the fake saw the Bearer key and the URL-decoded model id', async () => {
    const out = await client.send(new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    expect(out.output?.message?.content).toEqual([{ text: 'hello from bedrock' }]);
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage).toMatchObject({ inputTokens: 12, outputTokens: 5 });
    const [request] = fake.requests;
    expect(request).toMatchObject({ operation: 'converse', modelId: MODEL_ID, method: 'POST' });
    expect(request!.url).toContain('%3A'); // the SDK percent-encodes ':'
    expect(request!.headers.authorization).toBe('Bearer k');
    expect(request!.json).toEqual({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  });

  it('ConverseStream decodes every event of the default answer', async () => {
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const events = await collect(out.stream);
    expect(events.map((e) => Object.keys(e)[0])).toEqual(['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer k');
  });

  it('InvokeModel decodes the native body and sends ours unchanged', async () => {
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const out = await client.send(new InvokeModelCommand({ modelId: MODEL_ID, body, contentType: 'application/json', accept: 'application/json' }));
    expect(JSON.parse(decoder.decode(out.body))).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'hello from bedrock' }] });
    expect(fake.requests[0]).toMatchObject({ operation: 'invoke', modelId: MODEL_ID });
    expect(fake.requests[0]!.body.toString()).toBe(body);
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer k');
  });

  it('InvokeModelWithResponseStream decodes each chunk to one Anthropic event', async () => {
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL_ID, body, contentType: 'application/json' }));
    const chunks = await collect(out.body);
    expect(chunks.map((c) => JSON.parse(decoder.decode(c.chunk!.bytes)))).toEqual(anthropicTextEvents('hello from bedrock'));
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer k');
  });

  it.each([
    ['ThrottlingException', 429, ThrottlingException],
    ['ValidationException', 400, ValidationException],
    ['AccessDeniedException', 403, AccessDeniedException],
    ['ServiceUnavailableException', 503, ServiceUnavailableException],
  ])('an HTTP %s becomes that SDK exception, which maps by name', async (name, status, type) => {
    fake.reply('converse', { error: { name, message: `${name} from the fake` } });
    const err = await rejection(client.send(new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })));
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ name, message: `${name} from the fake`, $metadata: { httpStatusCode: status } });
    expect(mapBedrockError(err).exception).toBe(name);
  });

  it('a mid-stream exception frame is thrown from the ConverseStream iterator as ThrottlingException', async () => {
    const fixture = readFixture<ConverseStreamFixture>('bedrock/converse-stream/exception-mid-stream.json');
    fake.reply('converse-stream', { frames: fixture.frames });
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const seen: ConverseStreamOutput[] = [];
    const err = await rejection(
      (async () => {
        for await (const event of out.stream ?? []) seen.push(event);
      })(),
    );
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err).toMatchObject({ message: 'Too many tokens, please wait before trying again.' });
    expect(seen).toHaveLength(2);
  });

  it('a mid-stream exception frame is thrown from the InvokeModel stream as ModelStreamErrorException', async () => {
    fake.reply('invoke-with-response-stream', {
      frames: [{ chunk: anthropicTextEvents('x')[0]! }, { exception: 'modelStreamErrorException', message: 'The model stopped' }],
    });
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL_ID, body: '{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[{"role":"user","content":"x"}]}' }));
    const err = await rejection(collect(out.body));
    expect(err).toBeInstanceOf(ModelStreamErrorException);
  });

  it('a socket dropped mid-stream ends the Anthropic stream with an error event, never a clean stop', async () => {
    fake.reply('converse-stream', { frames: readFixture<ConverseStreamFixture>('bedrock/converse-stream/text.json').frames, destroyAfterFrames: 2, frameDelayMs: 30 });
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const translator = createConverseStreamTranslator({ model: 'claude-opus-5-5' });
    const events = [];
    try {
      for await (const event of out.stream ?? []) events.push(...translator.push(event));
      events.push(...translator.finish());
    } catch (err) {
      events.push(...translator.fail(err));
    }
    // How many frames the SDK hands over before the reset surfaces is timing; the ending is not.
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names.at(-1)).toBe('error');
    expect(names).not.toContain('message_stop');
  });

  it.each<[string, Message[], string]>([
    [
      'tool blocks without a toolConfig',
      [
        { role: 'user', content: [{ text: 'hi' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'Read', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'x' }] } }] },
      ],
      'toolConfig',
    ],
    // The SDK's role type allows `system`; the service does not.
    ['a system-role message', [{ role: 'user', content: [{ text: 'hi' }] }, { role: 'system', content: [{ text: 'environment' }] }], 'messages.1.role'],
  ])('the fake refuses what Bedrock refuses, as a ValidationException: %s', async (_name, messages, named) => {
    const err = await rejection(client.send(new ConverseCommand({ modelId: MODEL_ID, messages })));
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toContain(named);
  });

  it('a first-byte delay is honoured', async () => {
    fake.reply('converse', { delayMs: 150 });
    const started = Date.now();
    await client.send(new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('ConverseStream fixtures through the SDK', () => {
  it.each(fixtureNames('bedrock/converse-stream').filter((n) => n !== 'exception-mid-stream'))(
    '%s decodes to what the unit tests feed the translator, and translates to the expected events',
    async (name) => {
      const fixture = readFixture<ConverseStreamFixture>(`bedrock/converse-stream/${name}.json`);
      fake.reply('converse-stream', { frames: fixture.frames });
      const out = await client.send(new ConverseStreamCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      const events = await collect(out.stream);
      expect(events).toEqual(fixture.frames.map(wireEventToSdk));
      const translator = createConverseStreamTranslator({ model: fixture.model, messageId: fixture.messageId });
      const sse = [...events.flatMap((e) => translator.push(e)), ...translator.finish()];
      expect(sse.map((e) => JSON.parse(e.data))).toEqual(fixture.expected);
    },
  );
});

describe("Claude Code's requests, translated, sent through the SDK to the fake", () => {
  const turn2 = readFixture<{ headers: Record<string, string>; body: AnthropicRequest }>('claude-code/claude-code-request-turn2.json');
  // As the proxy sends it: the history without the thinking Anthropic signed (Bedrock would refuse it).
  turn2.body = historyFor(turn2.body, 'bedrock').request;
  const betas = parseBetaHeader(turn2.headers['anthropic-beta']);
  const { modelId } = resolveBedrockModel(turn2.body.model, 'us-east-1');

  it('Converse accepts the translated turn 2, images and all', async () => {
    const { input } = buildConverseRequest(turn2.body, { modelId, betas });
    const out = await client.send(new ConverseStreamCommand(input));
    const translator = createConverseStreamTranslator({ model: turn2.body.model });
    const events = [...(await collect(out.stream)).flatMap((e) => translator.push(e)), ...translator.finish()];
    expect(events.map((e) => e.event).at(-1)).toBe('message_stop');
    expect(fake.requests[0]).toMatchObject({ operation: 'converse-stream', modelId: 'us.anthropic.claude-opus-5-5' });
    // user (with the folded system message), assistant, user (tool result)
    expect((fake.requests[0]!.json as { messages: { role: string }[] }).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('InvokeModelWithResponseStream accepts the native body, and the stream comes back as the client model', async () => {
    const { body } = buildInvokeBody(turn2.body, { betas });
    const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json' }));
    const translator = createNativeStreamTranslator({ model: 'claude-opus-5-5' });
    const events = [...(await collect(out.body)).flatMap((c) => translator.push(c.chunk!.bytes!)), ...translator.finish()];
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(fake.requests[0]!.json).toEqual(body);
  });

  it('InvokeModel accepts the native body (non-streaming)', async () => {
    const { body } = buildInvokeBody({ ...turn2.body, stream: false }, { betas });
    const out = await client.send(new InvokeModelCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json' }));
    const { message, usage } = translateNativeResponse(out.body, { model: 'claude-opus-5-5' });
    expect(message).toMatchObject({ model: 'claude-opus-5-5', content: [{ type: 'text', text: 'hello from bedrock' }] });
    expect(usage.inputTokens).toBe(12);
  });
});

describe("Bedrock's Messages endpoint on the fake", () => {
  it('answers SSE that reads back through the native translator as the client model', async () => {
    const { body, headers } = buildMessagesRequest(
      { model: 'claude-opus-5-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { modelId: 'us.anthropic.claude-opus-5-5', betas: ['interleaved-thinking-2025-05-14'], host: 'runtime' },
    );
    const response = await fetch(`${fake.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k', ...headers },
      body: JSON.stringify(body),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const parser = createSseParser();
    const translator = createNativeStreamTranslator({ model: 'claude-opus-5-5' });
    const events = [...parser.push(await response.text()), ...parser.end()].flatMap((e) => translator.push(e.data));
    expect(events.map((e) => e.event).at(-1)).toBe('message_stop');
    expect(fake.requests[0]).toMatchObject({ operation: 'messages', modelId: 'us.anthropic.claude-opus-5-5' });
    expect(fake.requests[0]!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
  });
});
