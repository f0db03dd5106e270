import type { OutgoingHttpHeaders } from 'node:http';
import { anthropicErrorEvent } from '../anthropic/errors.ts';
import type { Exchange } from './exchange.ts';
import type { Outcome } from './usage-record.ts';

/** An upstream's answer, whichever upstream: what the one relay needs to hand it to the client. */
export interface UpstreamResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  /** An event stream: a failure after the commit can be told as an SSE `error` event. */
  sse: boolean;
  /** The body, chunk by chunk as it arrives (or whole); it throws when the upstream breaks off. */
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  /** Whether the bytes relayed so far end between two SSE events. */
  atEventBoundary(): boolean;
  /** For a JSON error: the same error as an SSE event, for a client whose 200 stream pings already began. */
  asEvent?: () => string;
  /** The request's outcome once the body was relayed whole, broke off, or the client left. */
  outcome(ended: 'completed' | 'failed' | 'aborted'): Outcome;
}

/**
 * The one relay: commits the status and headers (unless pings already did), streams the body with
 * backpressure (a slow client slows the upstream), and finishes the exchange with its outcome.
 * An upstream that breaks off gets an SSE `error` event between events, or a cut connection
 * mid-event — never a made-up end.
 */
export async function relay(x: Exchange, response: UpstreamResponse): Promise<void> {
  const { down } = x;
  x.atEventBoundary = () => response.sse && response.atEventBoundary();
  if (down.committed && response.asEvent) {
    down.end(response.asEvent());
    return x.finish(response.outcome('completed'));
  }
  down.commit(response.status, response.headers);
  let ended: 'completed' | 'failed' | 'aborted' = 'completed';
  try {
    for await (const chunk of response.body) {
      if (down.closed) break;
      const drained = down.write(chunk);
      if (drained) await drained;
    }
  } catch {
    ended = x.abort.aborted ? 'aborted' : 'failed';
    if (ended === 'failed') {
      if (response.sse && response.atEventBoundary() && !down.closed) {
        down.end(anthropicErrorEvent('api_error', 'The upstream connection was lost mid-stream', x.requestId));
      } else down.destroy();
    }
  }
  if (ended === 'completed' && x.abort.aborted) ended = 'aborted';
  if (ended === 'completed') down.end();
  x.finish(response.outcome(ended));
}
