import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.ts';
import type { UsageRepository } from '../db/usage-repository.ts';
import type { EventCost, PricedUsageEvent } from '../accounting/cost.ts';
import type { UsageEvent } from '../accounting/usage-event.ts';

export interface RecorderOptions {
  repository: UsageRepository;
  /** Where events go when the database cannot take them (JSON lines, replayed later). */
  spillFile: string;
  logger: Logger;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Events kept in memory while the database is down; older ones spill to the file. */
  maxQueued?: number;
  maxBackoffMs?: number;
  /**
   * Prices an event as it is recorded (from memory, never throwing; accounting/event-pricer.ts).
   * Without it events are stored with no cost.
   */
  price?: (event: UsageEvent) => EventCost | null;
}

/**
 * Takes usage events off the request path: `record()` only queues. A timer writes them in batches;
 * on database failure they stay queued and are retried with backoff, spilling to a local file past
 * `maxQueued`; `close()` flushes, and spills whatever the database would not take.
 */
export class UsageRecorder {
  readonly #repository: UsageRepository;
  readonly #spillFile: string;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueued: number;
  readonly #maxBackoffMs: number;
  readonly #price: ((event: UsageEvent) => EventCost | null) | undefined;
  #queue: PricedUsageEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #failures = 0;
  #nextAttemptAt = 0;
  #closed = false;

  constructor(options: RecorderOptions) {
    this.#repository = options.repository;
    this.#spillFile = options.spillFile;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.flushIntervalMs ?? 1000;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#price = options.price;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
    void this.#tick();
  }

  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues the event, priced now (the cost travels with it, spill file included); returns it priced.
   * The recorder owns the event from here: its cost is set on it rather than on a copy of ~30 fields.
   */
  record(event: UsageEvent): PricedUsageEvent {
    const priced: PricedUsageEvent = event;
    if (this.#price) priced.cost = this.#price(event);
    this.#queue.push(priced);
    if (this.#queue.length >= this.#batchSize && !this.#flushing && !this.#closed) setImmediate(() => void this.#tick());
    return priced;
  }

  /** Writes everything queued (and any spilled events) now; rejects if the database refuses. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#flushing = this.#writeAll().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Stops the timer, writes what is left, and spills to the file what could not be written. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await this.flush();
    } catch (err) {
      this.#logger.error({ err, events: this.#queue.length, file: this.#spillFile }, 'usage flush failed at shutdown; spilling to file');
      this.#spill(this.#queue.splice(0));
    }
  }

  async #tick(): Promise<void> {
    if (this.#flushing || Date.now() < this.#nextAttemptAt) return;
    if (this.#queue.length === 0 && !this.#hasSpill()) return;
    try {
      await this.flush();
      if (this.#failures > 0) this.#logger.info({ failures: this.#failures }, 'usage writes recovered');
      this.#failures = 0;
      this.#nextAttemptAt = 0;
    } catch (err) {
      this.#failures++;
      const backoff = Math.min(this.#maxBackoffMs, this.#intervalMs * 2 ** this.#failures);
      this.#nextAttemptAt = Date.now() + backoff;
      if (this.#queue.length > this.#maxQueued) this.#spill(this.#queue.splice(0, this.#queue.length - this.#maxQueued));
      this.#logger.warn({ err, queued: this.#queue.length, retryInMs: backoff }, 'usage write failed; will retry');
    }
  }

  async #writeAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#batchSize);
      await this.#repository.insertBatch(batch);
      this.#queue.splice(0, batch.length);
    }
    await this.#replaySpill();
  }

  #hasSpill(): boolean {
    return fs.existsSync(this.#spillFile) || fs.existsSync(`${this.#spillFile}.replaying`);
  }

  #spill(events: PricedUsageEvent[]): void {
    if (events.length === 0) return;
    fs.mkdirSync(path.dirname(this.#spillFile), { recursive: true });
    fs.appendFileSync(this.#spillFile, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  async #replaySpill(): Promise<void> {
    // Claim the file first so spills made while we replay go to a new one. A claimed file left by
    // an interrupted replay is finished first (inserts skip events already stored).
    const claimed = `${this.#spillFile}.replaying`;
    if (!fs.existsSync(claimed)) {
      if (!fs.existsSync(this.#spillFile)) return;
      fs.renameSync(this.#spillFile, claimed);
    }
    const events = fs
      .readFileSync(claimed, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const e = JSON.parse(line) as PricedUsageEvent;
        const event = { ...e, occurredAt: new Date(e.occurredAt) };
        // A spill written before events carried their cost: price it now, as of when it happened.
        return 'cost' in e || !this.#price ? event : { ...event, cost: this.#price(event) };
      });
    for (let i = 0; i < events.length; i += this.#batchSize) await this.#repository.insertBatch(events.slice(i, i + this.#batchSize));
    fs.rmSync(claimed);
    this.#logger.info({ events: events.length }, 'replayed spilled usage events');
  }
}
