/**
 * Bedrock's response streams (InvokeModelWithResponseStream, ConverseStream) decoded without the
 * AWS SDK (docs/upstream-apis.md §2.3): AWS event-stream frames are cut out of the body's chunks
 * and checked with `@smithy/eventstream-codec`, then read the way the SDK reads them:
 * - `:message-type` `event`: `:event-type` names the member, the payload is its JSON;
 * - `exception`: `:exception-type` names a modelled exception, the payload is `{"message"}`;
 *   thrown, as the SDK throws it;
 * - `error`: an unmodelled error, `:error-code` and `:error-message` in headers; thrown.
 * A corrupt frame (bad CRC, impossible length) or a body that ends inside a frame throws at once,
 * never waits for bytes that will not come.
 */

import { crc32 } from 'node:zlib';
import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { BedrockTranslationError } from './errors.ts';

/** One `event` frame: the member name and its payload bytes (JSON). */
export interface StreamEvent {
  type: string;
  payload: Uint8Array;
}

/**
 * An `exception` or `error` frame, with `name` as the SDK names it (`throttlingException`,
 * or the `:error-code`): mapBedrockError classifies it like the SDK's own error.
 */
export class BedrockStreamException extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** Prelude (total length, headers length, prelude CRC) and message CRC. */
const PRELUDE = 12;
const OVERHEAD = 16;
/** The event-stream format's own limit on one message. */
const MAX_MESSAGE = 16 * 1024 * 1024;

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const decoder = new TextDecoder();

function corrupt(detail: string): BedrockTranslationError {
  return new BedrockTranslationError('BEDROCK_BAD_RESPONSE', 'event stream', `Amazon Bedrock sent a broken event stream: ${detail}`);
}

export interface FrameDecoder {
  /** The next chunk of the body; returns the frames it completed (possibly none). Throws on a corrupt frame. */
  push(chunk: Uint8Array): Message[];
  /** The body ended: throws if it ended inside a frame. */
  end(): void;
}

export function createFrameDecoder(): FrameDecoder {
  /** Bytes of an unfinished frame, in arrival order. */
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  /** The unfinished frame's total length, once its prelude is in (0: not yet). */
  let frameLength = 0;

  function take(length: number): Uint8Array {
    const first = pending[0]!;
    if (first.byteLength >= length) {
      // The common case: the frame lies in one chunk; no copy.
      const frame = first.subarray(0, length);
      if (first.byteLength === length) pending.shift();
      else pending[0] = first.subarray(length);
      pendingLength -= length;
      return frame;
    }
    const frame = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const head = pending[0]!;
      const n = Math.min(head.byteLength, length - filled);
      frame.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.byteLength) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingLength -= length;
    return frame;
  }

  /** The prelude, checked before trusting its length: a corrupt one fails now instead of waiting. */
  function readPrelude(): number {
    const prelude = pending[0]!.byteLength >= PRELUDE ? pending[0]!.subarray(0, PRELUDE) : peek(PRELUDE);
    const view = new DataView(prelude.buffer, prelude.byteOffset, PRELUDE);
    const total = view.getUint32(0, false);
    const headers = view.getUint32(4, false);
    const expected = view.getUint32(8, false);
    if (crc32(prelude.subarray(0, 8)) !== expected) throw corrupt('prelude checksum mismatch');
    if (total < OVERHEAD || total > MAX_MESSAGE || headers > total - OVERHEAD) throw corrupt(`impossible frame length ${total}`);
    return total;
  }

  function peek(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    for (const part of pending) {
      const n = Math.min(part.byteLength, length - filled);
      out.set(part.subarray(0, n), filled);
      filled += n;
      if (filled === length) break;
    }
    return out;
  }

  return {
    push(chunk) {
      if (chunk.byteLength > 0) {
        pending.push(chunk);
        pendingLength += chunk.byteLength;
      }
      const out: Message[] = [];
      for (;;) {
        if (frameLength === 0) {
          if (pendingLength < PRELUDE) break;
          frameLength = readPrelude();
        }
        if (pendingLength < frameLength) break;
        const frame = take(frameLength);
        frameLength = 0;
        try {
          out.push(codec.decode(frame));
        } catch (err) {
          throw corrupt(err instanceof Error ? err.message : 'undecodable frame');
        }
      }
      return out;
    },
    end() {
      if (pendingLength > 0) {
        pending = [];
        pendingLength = 0;
        throw corrupt('the body ended inside a frame');
      }
    },
  };
}

function header(headers: MessageHeaders, name: string): string | undefined {
  const value = headers[name]?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The `message` of an exception frame's JSON payload; the raw text when it is not JSON. */
function exceptionMessage(payload: Uint8Array): string {
  const text = decoder.decode(payload);
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown };
    const message = body.message ?? body.Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself, as the SDK reports an unmodelled exception
  }
  return text;
}

/** One decoded frame as the SDK reads it: an event, or a thrown exception / error. */
export function readFrame(message: Message): StreamEvent {
  const kind = header(message.headers, ':message-type');
  if (kind === 'event') return { type: header(message.headers, ':event-type') ?? '', payload: message.body };
  if (kind === 'exception') throw new BedrockStreamException(header(message.headers, ':exception-type') ?? 'UnknownError', exceptionMessage(message.body));
  if (kind === 'error') {
    throw new BedrockStreamException(header(message.headers, ':error-code') ?? 'UnknownError', header(message.headers, ':error-message') || 'UnknownError');
  }
  throw corrupt(`unknown message type ${kind ?? '(none)'}`);
}

/**
 * The events of a response body, one batch per body chunk: a chunk's events then reach the client
 * in one write (each write is a syscall, the largest cost of a streamed answer). Events before an
 * exception frame in the same chunk are yielded first; the exception is thrown on the next pull.
 */
export async function* streamEventBatches(body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEvent[], void, undefined> {
  const frames = createFrameDecoder();
  for await (const chunk of body) {
    const batch: StreamEvent[] = [];
    let thrown: { err: unknown } | undefined;
    for (const message of frames.push(chunk)) {
      try {
        batch.push(readFrame(message));
      } catch (err) {
        thrown = { err };
        break;
      }
    }
    if (batch.length > 0) yield batch;
    if (thrown) throw thrown.err;
  }
  frames.end();
}

/** The events of a response body one by one; exceptions and corrupt frames are thrown from `next()`. */
export async function* streamEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEvent, void, undefined> {
  for await (const batch of streamEventBatches(body)) yield* batch;
}
