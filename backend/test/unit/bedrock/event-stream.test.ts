/**
 * The event-stream decoder of the bearer path (src/bedrock/event-stream.ts) on frames encoded as
 * Bedrock encodes them (the fake's `encodeFrame`): any split of the body into chunks, several
 * frames per chunk, exception and error frames, and broken bodies, which must fail at once.
 */

import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BedrockTranslationError, mapBedrockError } from '../../../src/bedrock/errors.ts';
import { BedrockStreamException, createFrameDecoder, readFrame, streamEventBatches, streamEvents, type StreamEvent } from '../../../src/bedrock/event-stream.ts';
import { encodeFrame, type FakeFrame } from '../../fakes/bedrock.ts';

const frames: FakeFrame[] = [
  { event: 'messageStart', payload: { role: 'assistant' } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'héllo, wörld ✓' } } },
  { chunk: { type: 'content_block_stop', index: 0 } },
  { event: 'metadata', payload: { usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } } },
];
const encoded = frames.map(encodeFrame);
const body = Buffer.concat(encoded);

const decodeText = (event: StreamEvent) => ({ type: event.type, json: JSON.parse(Buffer.from(event.payload).toString('utf8')) as unknown });
const expected = frames.map((frame) =>
  'event' in frame
    ? { type: frame.event, json: { ...frame.payload, p: expect.any(String) } }
    : { type: 'chunk', json: { bytes: Buffer.from(JSON.stringify((frame as { chunk: unknown }).chunk)).toString('base64'), p: expect.any(String) } },
);

function decodeChunks(chunks: Uint8Array[]): StreamEvent[] {
  const decoder = createFrameDecoder();
  const out: StreamEvent[] = [];
  for (const chunk of chunks) for (const message of decoder.push(chunk)) out.push(readFrame(message));
  decoder.end();
  return out;
}

async function collect(chunks: Uint8Array[]): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of streamEvents((async function* () { yield* chunks; })())) out.push(event);
  return out;
}

async function failure(chunks: Uint8Array[]): Promise<unknown> {
  try {
    await collect(chunks);
  } catch (err) {
    return err;
  }
  throw new Error('expected the stream to fail');
}

describe('createFrameDecoder', () => {
  it('decodes the whole body in one chunk (several frames per chunk)', () => {
    expect(decodeChunks([body]).map(decodeText)).toEqual(expected);
  });

  it('decodes the body split at every byte boundary', () => {
    for (let at = 1; at < body.length; at++) {
      expect(decodeChunks([body.subarray(0, at), body.subarray(at)]).map(decodeText)).toEqual(expected);
    }
  });

  it('decodes the body one byte at a time, and in three-way splits', () => {
    expect(decodeChunks([...body].map((b) => Uint8Array.of(b))).map(decodeText)).toEqual(expected);
    const step = 7;
    for (let a = 1; a < body.length; a += step) {
      for (let b = a + 1; b < body.length; b += step) {
        expect(decodeChunks([body.subarray(0, a), body.subarray(a, b), body.subarray(b)]).map(decodeText)).toEqual(expected);
      }
    }
  });

  it('yields nothing for an empty body, and ignores empty chunks', async () => {
    expect(decodeChunks([])).toEqual([]);
    expect(decodeChunks([new Uint8Array(0), body, new Uint8Array(0)]).map(decodeText)).toEqual(expected);
    expect(await collect([])).toEqual([]);
  });

  it('fails on a body that ends inside a frame, at every cut', async () => {
    for (let cut = 1; cut < encoded[0]!.length; cut++) {
      const err = await failure([body.subarray(0, cut)]);
      expect(err).toBeInstanceOf(BedrockTranslationError);
      expect(mapBedrockError(err)).toMatchObject({ status: 502, code: 'BEDROCK_BAD_RESPONSE' });
    }
    // Whole frames first, then the cut one: the whole ones come out before the failure.
    const decoder = createFrameDecoder();
    const cut = encoded[0]!.length + encoded[1]!.length + 5;
    expect(decoder.push(body.subarray(0, cut))).toHaveLength(2);
    expect(() => decoder.end()).toThrow(/ended inside a frame/);
  });

  it('fails at once on a corrupt prelude, without waiting for the length it claims', () => {
    const bad = Buffer.from(encoded[0]!);
    bad.writeUInt32BE(0x7fffffff, 0); // an impossible length; the prelude CRC no longer matches
    expect(() => createFrameDecoder().push(bad.subarray(0, 12))).toThrow(/prelude checksum/);
  });

  it('fails on a length the format cannot carry even with a valid prelude CRC', () => {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(64 * 1024 * 1024, 0);
    prelude.writeUInt32BE(0, 4);
    prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
    expect(() => createFrameDecoder().push(prelude)).toThrow(/impossible frame length/);
    prelude.writeUInt32BE(8, 0);
    prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
    expect(() => createFrameDecoder().push(prelude)).toThrow(/impossible frame length/);
  });

  it('fails on a corrupt payload (message CRC)', () => {
    const bad = Buffer.from(encoded[1]!);
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 0xff;
    expect(() => createFrameDecoder().push(bad)).toThrow(BedrockTranslationError);
    expect(() => createFrameDecoder().push(bad)).toThrow(/checksum/);
  });
});

describe('readFrame', () => {
  it('throws a modelled exception frame with its name and message, before later frames', async () => {
    const chunks = [encoded[0]!, encodeFrame({ exception: 'throttlingException', message: 'Too many tokens' }), encoded[1]!];
    const seen: string[] = [];
    let thrown: unknown;
    try {
      for await (const event of streamEvents((async function* () { yield Buffer.concat(chunks); })())) seen.push(event.type);
    } catch (err) {
      thrown = err;
    }
    expect(seen).toEqual(['messageStart']);
    expect(thrown).toBeInstanceOf(BedrockStreamException);
    expect(thrown).toMatchObject({ name: 'throttlingException', message: 'Too many tokens' });
    expect(mapBedrockError(thrown)).toEqual({
      status: 429,
      type: 'rate_limit_error',
      code: 'BEDROCK_THROTTLED',
      message: 'Too many tokens',
      exception: 'ThrottlingException',
    });
  });

  it('throws an unmodelled error frame with its code and message', async () => {
    const err = await failure([encodeFrame({ errorCode: 'InternalFailure', errorMessage: 'Something broke' })]);
    expect(err).toMatchObject({ name: 'InternalFailure', message: 'Something broke' });
    expect(mapBedrockError(err)).toMatchObject({ status: 500, code: 'BEDROCK_UNKNOWN', message: 'Something broke' });
  });

  it('never puts anything but the frame into an exception', async () => {
    const err = (await failure([encodeFrame({ exception: 'modelStreamErrorException', message: 'The model stream broke' })])) as Error;
    expect(Object.keys(err)).toEqual(['name']);
    expect(err.cause).toBeUndefined();
  });
});

describe('streamEventBatches', () => {
  async function batches(chunks: Uint8Array[]): Promise<{ types: string[][]; err?: unknown }> {
    const types: string[][] = [];
    try {
      for await (const batch of streamEventBatches((async function* () { yield* chunks; })())) types.push(batch.map((e) => e.type));
    } catch (err) {
      return { types, err };
    }
    return { types };
  }

  it("gives one batch per body chunk, so a chunk's events are written together", async () => {
    const { types } = await batches([Buffer.concat(encoded.slice(0, 3)), encoded[3]!]);
    expect(types).toEqual([['messageStart', 'contentBlockDelta', 'chunk'], ['metadata']]);
  });

  it('yields the events before an exception frame of the same chunk, then throws it', async () => {
    const exception = encodeFrame({ exception: 'throttlingException', message: 'Too many tokens' });
    const { types, err } = await batches([Buffer.concat([encoded[0]!, encoded[1]!, exception, encoded[2]!])]);
    expect(types).toEqual([['messageStart', 'contentBlockDelta']]);
    expect(err).toBeInstanceOf(BedrockStreamException);
    expect((err as Error).name).toBe('throttlingException');
  });
});
