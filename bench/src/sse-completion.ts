/**
 * Whether an Anthropic SSE response arrived whole: a stream is complete only once its
 * `message_stop` event came, and it failed if an `error` event came. Fed the raw chunks as they
 * arrive; an event name split across two chunks is still found (the tail of the previous chunk
 * is kept). Pure, so it is unit-tested.
 */
const STOP = Buffer.from('event: message_stop');
const ERROR = Buffer.from('event: error');
const KEEP = Math.max(STOP.length, ERROR.length) - 1;

export class SseCompletion {
  #tail: Buffer = Buffer.alloc(0);
  #stopped = false;
  #errored = false;

  push(chunk: Buffer): void {
    if (this.#stopped || this.#errored) return;
    const joined = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
    if (joined.indexOf(STOP) !== -1) this.#stopped = true;
    if (joined.indexOf(ERROR) !== -1) this.#errored = true;
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - KEEP)));
  }

  /** `message_stop` came and no `error` event before it. */
  get complete(): boolean {
    return this.#stopped && !this.#errored;
  }

  get errored(): boolean {
    return this.#errored;
  }
}
