import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Cancellation } from '../../../src/proxy/cancellation.ts';
import { Downstream } from '../../../src/proxy/downstream.ts';
import type { Exchange } from '../../../src/proxy/exchange.ts';
import { relay, type UpstreamResponse } from '../../../src/proxy/relay.ts';
import type { Outcome } from '../../../src/proxy/usage-record.ts';

/** The client's side as the relay sees it: a writable that records status, headers and bytes. */
class FakeResponse extends Writable {
  headersSent = false;
  status = 0;
  headers: OutgoingHttpHeaders = {};
  written = '';
  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.headersSent = true;
    this.status = status;
    this.headers = headers;
    return this;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.written += chunk.toString();
    done();
  }
}

function exchange(): { x: Exchange; res: FakeResponse; finished: Outcome[]; abort: Cancellation } {
  const res = new FakeResponse();
  const abort = new Cancellation();
  const finished: Outcome[] = [];
  const x = {
    down: new Downstream(res as unknown as ServerResponse, performance.now()),
    abort,
    requestId: 'req_relay',
    atEventBoundary: () => true,
    finish: (o: Outcome) => finished.push(o),
  };
  return { x: x as unknown as Exchange, res, finished, abort };
}

type BodyKind = 'stream' | 'iterable';

function response(kind: BodyKind, chunks: string[], options: { sse?: boolean; breakAfter?: number; asEvent?: string } = {}): UpstreamResponse {
  let boundary = true;
  return {
    status: 200,
    headers: { 'content-type': options.sse === false ? 'application/json' : 'text/event-stream' },
    sse: options.sse ?? true,
    body: (kind === 'stream' ? Readable.from : (it: AsyncGenerator<string>) => it)(
      (async function* () {
      for (const [i, chunk] of chunks.entries()) {
        if (i === options.breakAfter) throw new Error('upstream broke off');
        boundary = chunk.endsWith('\n\n');
        yield chunk;
      }
      })(),
    ),
    atEventBoundary: () => boundary,
    ...(options.asEvent ? { asEvent: () => options.asEvent! } : {}),
    outcome: (ended: 'completed' | 'failed' | 'aborted'): Outcome => ({ status: 200, outcome: ended }),
  };
}

describe.each<BodyKind>(['stream', 'iterable'])('relay of a body as a %s', (kind) => {
  it('commits, streams every chunk in order and finishes once, completed', async () => {
    const { x, res, finished } = exchange();
    await relay(x, response(kind, ['event: a\ndata: {}\n\n', 'event: b\ndata: {}\n\n']));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.written).toBe('event: a\ndata: {}\n\nevent: b\ndata: {}\n\n');
    expect(res.writableEnded).toBe(true);
    expect(finished).toEqual([{ status: 200, outcome: 'completed' }]);
  });

  it('tells a break between events as an SSE error event: failed', async () => {
    const { x, res, finished } = exchange();
    await relay(x, response(kind, ['event: a\ndata: {}\n\n', 'never'], { breakAfter: 1 }));
    expect(res.written).toMatch(/^event: a\ndata: \{\}\n\nevent: error\ndata: .*"api_error".*\n\n$/);
    expect(finished).toEqual([{ status: 200, outcome: 'failed' }]);
  });

  it('cuts the connection on a break mid-event, never a made-up end', async () => {
    const { x, res, finished } = exchange();
    await relay(x, response(kind, ['event: a\ndata: {', 'never'], { breakAfter: 1 }));
    expect(res.destroyed).toBe(true);
    expect(res.written).not.toContain('event: error');
    expect(finished).toEqual([{ status: 200, outcome: 'failed' }]);
  });

  it('re-tells a JSON error as an event when pings already began the stream', async () => {
    const { x, res, finished } = exchange();
    res.writeHead(200, { 'content-type': 'text/event-stream' }); // what the first ping does
    await relay(x, response(kind, ['{"type":"error"}'], { sse: false, asEvent: 'event: error\ndata: {}\n\n' }));
    expect(res.written).toBe('event: error\ndata: {}\n\n');
    expect(finished).toEqual([{ status: 200, outcome: 'completed' }]);
  });

  it('finishes aborted when the client left', async () => {
    const { x, finished, abort } = exchange();
    abort.abort();
    await relay(x, response(kind, ['event: a\ndata: {}\n\n', 'x'], { breakAfter: 1 }));
    expect(finished).toEqual([{ status: 200, outcome: 'aborted' }]);
  });
});
