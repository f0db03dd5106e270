import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

/**
 * The client's side of one response. Until an upstream byte arrives a streaming request gets
 * Anthropic `ping` events (load balancers cut silent connections); the first ping commits the
 * response as a 200 event stream, after which failures can only be told as SSE `error` events.
 */
export class Downstream {
  readonly #res: ServerResponse;
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #firstByteAt: number | undefined;

  /** `startedAt`: performance.now() when the request arrived, for time to first byte. */
  constructor(res: ServerResponse, startedAt: number) {
    this.#res = res;
    this.#startedAt = startedAt;
  }

  /** Milliseconds from the request's arrival to the first upstream byte written, if any was. */
  get ttfbMs(): number | null {
    return this.#firstByteAt === undefined ? null : Math.round(this.#firstByteAt - this.#startedAt);
  }

  /** Status and headers are on the wire: from here on, no fallback status can be sent. */
  get committed(): boolean {
    return this.#res.headersSent;
  }

  /** Whether the client has received any upstream byte (pings do not count). */
  get upstreamBytesSent(): boolean {
    return this.#bytes > 0;
  }

  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  startPings(intervalMs: number): void {
    this.#timer = setInterval(() => {
      if (this.closed) return this.stopPings();
      if (!this.committed) this.#res.writeHead(200, SSE_HEADERS);
      this.#res.write(PING);
    }, intervalMs);
    this.#timer.unref();
  }

  stopPings(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Sends status and headers unless pings already did (then the stream is 200 whatever `status` says). */
  commit(status: number, headers: OutgoingHttpHeaders): void {
    this.stopPings();
    if (!this.committed) this.#res.writeHead(status, headers);
  }

  commitEventStream(headers: OutgoingHttpHeaders = {}): void {
    this.commit(200, { ...SSE_HEADERS, ...headers });
  }

  /** Writes upstream bytes; resolves at once, or on 'drain' when the client is slower than the upstream. */
  write(chunk: Buffer | string): Promise<void> | undefined {
    if (this.#bytes === 0) this.#firstByteAt = performance.now();
    this.#bytes += chunk.length;
    if (this.#res.write(chunk)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.#res.off('drain', done);
        this.#res.off('close', done);
        resolve();
      };
      this.#res.once('drain', done);
      this.#res.once('close', done);
    });
  }

  end(chunk?: Buffer | string): void {
    this.stopPings();
    if (chunk !== undefined && this.#bytes === 0) this.#firstByteAt = performance.now();
    if (chunk === undefined) this.#res.end();
    else this.#res.end(chunk);
  }

  destroy(): void {
    this.stopPings();
    this.#res.destroy();
  }
}
