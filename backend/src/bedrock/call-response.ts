/**
 * A Bedrock call's answer as the router gets it, whichever API served it (upstream.ts): a JSON body,
 * or a stream whose first event was pulled before it is handed over, so a failure before the first
 * byte is still a `BedrockCallError`; after that the stream never throws but ends with one
 * `event: error`. Leaving the stream early, or the client going away, aborts the Bedrock call.
 */

import type { TokenUsage } from '../anthropic/usage.ts';
import { formatSseEvent, type SseEvent } from '../anthropic/sse.ts';
import { BedrockConfigError } from './client.ts';
import { mapBedrockError, type BedrockFailure } from './errors.ts';

/** What the proxy records. */
export interface BedrockOutcome {
  /** The Bedrock model id called (profile-prefixed id or ARN). */
  servedModel: string;
  /** Bedrock's `x-amzn-requestid`, when it sent one. */
  upstreamRequestId: string | null;
  /** Client beta values Bedrock did not get (for metrics). */
  droppedBetas: readonly string[];
  /** Tokens so far (final once a stream has ended), cache reads and writes included. */
  usage(): TokenUsage;
  /** Anthropic `stop_reason`, once known. */
  stopReason(): string | null;
  /**
   * Why the stream broke off: the client got an `error` event (or, with code `BEDROCK_ABORTED`,
   * nothing more because the client left or the consumer stopped early). Undefined if it completed.
   */
  failure(): BedrockFailure | undefined;
}

export type BedrockResponse =
  /** An Anthropic Message JSON body, to send with status 200. */
  | (BedrockOutcome & { kind: 'json'; body: string })
  /**
   * Serialised SSE text, each string one or more whole events (`event: …\ndata: …\n\n`), to send
   * with status 200 and `content-type: text/event-stream`. Iterate once; it never throws.
   */
  | (BedrockOutcome & { kind: 'stream'; events: AsyncIterable<string> });

/**
 * A Bedrock failure before the client got a byte; `failure` is the Anthropic error to answer with.
 * It deliberately carries no `cause`: an AWS SDK error holds the raw response, whose request
 * headers include the Bearer key, and a logger would print it.
 */
export class BedrockCallError extends Error {
  override readonly name = 'BedrockCallError';
  readonly beforeFirstByte = true as const;
  readonly code: string;
  readonly status: number;

  constructor(readonly failure: BedrockFailure) {
    super(failure.message);
    this.code = failure.code;
    this.status = failure.status;
  }
}

const ABORTED: BedrockFailure = {
  status: 499,
  type: 'api_error',
  code: 'BEDROCK_ABORTED',
  message: 'The client closed the connection',
  exception: null,
};

/** The route's signal, linked to one of our own, which also fires when we stop reading. */
export interface CallAbort {
  signal: AbortSignal;
  /** Stops the Bedrock call (idempotent). */
  abort(): void;
  clientGone(): boolean;
  unlink(): void;
}

export function linkAbort(signal: AbortSignal): CallAbort {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    clientGone: () => signal.aborted,
    unlink: () => signal.removeEventListener('abort', onAbort),
  };
}

export function callError(err: unknown, link: CallAbort): BedrockCallError {
  if (err instanceof BedrockCallError) return err;
  if (link.clientGone()) return new BedrockCallError(ABORTED);
  if (err instanceof BedrockConfigError) {
    return new BedrockCallError({ status: 500, type: 'api_error', code: err.code, message: err.message, exception: null });
  }
  return new BedrockCallError(mapBedrockError(err));
}

/** The common face of the native and Converse stream translators. */
export interface StreamTranslator {
  finish(): SseEvent[];
  fail(err: unknown): SseEvent[];
  usage(): TokenUsage;
  stopReason(): string | null;
  failure(): BedrockFailure | undefined;
}

export interface Served {
  servedModel: string;
  upstreamRequestId: string | null;
  droppedBetas: readonly string[];
}

const serialise = (events: readonly SseEvent[]) => events.map(formatSseEvent).join('');

export function jsonResponse(served: Served, body: string, usage: TokenUsage, stopReason: unknown): BedrockResponse {
  return {
    kind: 'json',
    body,
    ...served,
    usage: () => ({ ...usage }),
    stopReason: () => (typeof stopReason === 'string' ? stopReason : null),
    failure: () => undefined,
  };
}

/**
 * Pulls until the first Anthropic event is ready (a failure there rejects), then hands the rest
 * out lazily, one upstream event's worth at a time, so the route's backpressure reaches Bedrock.
 */
export async function openStream<T>(
  source: AsyncIterable<T>,
  apply: (item: T) => SseEvent[],
  translator: StreamTranslator,
  link: CallAbort,
  served: Served,
): Promise<BedrockResponse> {
  const iterator = source[Symbol.asyncIterator]();
  let first: SseEvent[] = [];
  let ended = false;
  try {
    while (first.length === 0) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        first = translator.finish();
        break;
      }
      first = apply(next.value);
    }
  } catch (err) {
    link.abort();
    link.unlink();
    throw callError(err, link);
  }
  const early = translator.failure();
  if (early) {
    link.abort();
    link.unlink();
    throw new BedrockCallError(link.clientGone() ? ABORTED : early);
  }

  let stopped: BedrockFailure | undefined;
  let started = false;

  async function* events(): AsyncGenerator<string, void, undefined> {
    started = true;
    let settled = ended;
    try {
      yield serialise(first);
      while (!settled) {
        let out: SseEvent[];
        try {
          const next = await iterator.next();
          if (next.done) {
            settled = true;
            out = translator.finish();
          } else {
            out = apply(next.value);
          }
        } catch (err) {
          if (link.clientGone()) return; // finally: aborted
          settled = true;
          out = translator.fail(err);
        }
        if (translator.failure()) {
          settled = true;
          link.abort(); // nothing more is wanted from this connection
        }
        if (out.length > 0) yield serialise(out);
      }
    } finally {
      if (!settled) {
        // The client left, or the consumer stopped iterating: stop Bedrock and free the socket.
        stopped = ABORTED;
        link.abort();
      }
      link.unlink();
    }
  }

  const generator = events();
  const iterable: AsyncIterableIterator<string> = {
    next: () => generator.next(),
    async return() {
      // A generator never started skips its `finally`: release the stream here instead.
      if (!started && !ended) {
        stopped = ABORTED;
        link.abort();
        link.unlink();
      }
      return generator.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return {
    kind: 'stream',
    events: iterable,
    ...served,
    usage: () => translator.usage(),
    stopReason: () => translator.stopReason(),
    failure: () => stopped ?? translator.failure(),
  };
}

export async function* emptyStream<T>(): AsyncGenerator<T> {
  // Bedrock answered 200 without a body: the translator's finish() reports the cut stream.
}
