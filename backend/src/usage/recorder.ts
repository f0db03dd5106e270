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
  /** How often queued events are written to the database: what a hard crash can lose while it is up. */
  flushIntervalMs?: number;
  /**
   * While the database is failing (or a write hangs past flushIntervalMs), queued events are
   * appended to the spill file and fsynced this often: what a hard crash can lose during an outage.
   */
  spillIntervalMs?: number;
  maxBackoffMs?: number;
  /**
   * Prices an event as it is recorded (from memory, never throwing; accounting/event-pricer.ts).
   * Without it events are stored with no cost.
   */
  price?: (event: UsageEvent) => EventCost | null;
}

/**
 * Takes usage events off the request path: `record()` only queues. A timer writes them in batches
 * every `flushIntervalMs`. While the database fails, every queued event is appended to a local
 * file (fsynced every `spillIntervalMs`, off the event loop) and retried from there with backoff;
 * the file is replayed at start and once the database answers. Inserts skip request ids already
 * stored (db/usage-repository.ts), so an event both written and spilled, or a replay interrupted by
 * a crash and done again, counts once. A hard crash loses at most what is queued in memory: the
 * last flush interval's events (plus those in a write still running), or during an outage the last
 * spill interval's.
 */
export class UsageRecorder {
  readonly #repository: UsageRepository;
  readonly #spillFile: string;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #spillIntervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #price: ((event: UsageEvent) => EventCost | null) | undefined;
  #queue: PricedUsageEvent[] = [];
  /** The batch being inserted now, since when, and whether it is also in the spill file already. */
  #writing: PricedUsageEvent[] = [];
  #writingSince = 0;
  #writingSpilled = false;
  #timer: NodeJS.Timeout | undefined;
  #spillTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #spilling: Promise<void> | undefined;
  /** Events on their way to the spill file (out of the queue, not yet fsynced). */
  #inSpill = 0;
  /** Appends and the replay's claim of the file take turns, so no append lands in a claimed file. */
  #fileTurn: Promise<unknown> = Promise.resolve();
  /**
   * Whether a spill file may be waiting: known at start, set by every append, cleared when a replay
   * finds none. Only this process writes its spill file, so the timers need not ask the disk.
   */
  #spillOnDisk: boolean;
  #failures = 0;
  #nextAttemptAt = 0;
  #closed = false;

  constructor(options: RecorderOptions) {
    this.#repository = options.repository;
    this.#spillFile = options.spillFile;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.flushIntervalMs ?? 250;
    this.#spillIntervalMs = options.spillIntervalMs ?? 50;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#price = options.price;
    this.#spillOnDisk = fs.existsSync(this.#spillFile) || fs.existsSync(this.#claimedFile);
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
    this.#spillTimer = setInterval(() => void this.#spillTick(), this.#spillIntervalMs);
    this.#spillTimer.unref();
    void this.#tick();
  }

  get pending(): number {
    return this.#queue.length + this.#writing.length + this.#inSpill;
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

  /** Stops the timers, writes what is left, and spills to the file what could not be written. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#spillTimer);
    while (this.#spilling) await this.#spilling;
    try {
      await this.flush();
    } catch (err) {
      this.#logger.error({ err, events: this.#queue.length, file: this.#spillFile }, 'usage flush failed at shutdown; spilling to file');
      await this.#spillQueued(true);
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
      this.#logger.warn({ err, queued: this.pending, retryInMs: backoff }, 'usage write failed; spilling to file; will retry');
      // Do not wait for the next spill tick: what the failed write held is only in memory.
      void this.#spillTick();
    }
  }

  /** While writes fail or hang, moves what is queued to the spill file. */
  async #spillTick(): Promise<void> {
    if (this.#spilling) return;
    const hung = this.#writing.length > 0 && Date.now() - this.#writingSince > this.#intervalMs;
    if (this.#failures === 0 && !hung) return;
    this.#spilling = this.#spillQueued(hung).finally(() => (this.#spilling = undefined));
    await this.#spilling;
  }

  /** Appends the queue (and the hung batch, if asked) to the spill file; on failure keeps them queued. */
  async #spillQueued(includeWriting: boolean): Promise<void> {
    const writing = includeWriting && !this.#writingSpilled ? this.#writing : [];
    const events = [...writing, ...this.#queue.splice(0)];
    if (events.length === 0) return;
    if (writing.length > 0) this.#writingSpilled = true;
    this.#inSpill = events.length - writing.length;
    try {
      await this.#append(events);
    } catch (err) {
      // Kept in memory (a batch also being written may then be stored twice over: skipped by id).
      this.#queue.unshift(...events);
      if (writing.length > 0 && this.#writing === writing) this.#writingSpilled = false;
      this.#logger.error({ err, events: events.length, file: this.#spillFile }, 'usage spill file write failed; events kept in memory');
    } finally {
      this.#inSpill = 0;
    }
  }

  async #writeAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#writing = batch;
      this.#writingSince = Date.now();
      this.#writingSpilled = false;
      try {
        await this.#repository.insertBatch(batch);
      } catch (err) {
        // Back to the front of the queue, unless it already went to the spill file while it hung.
        if (!this.#writingSpilled) this.#queue.unshift(...batch);
        throw err;
      } finally {
        this.#writing = [];
      }
    }
    await this.#replaySpill();
  }

  #hasSpill(): boolean {
    return this.#spillOnDisk;
  }

  get #claimedFile(): string {
    return `${this.#spillFile}.replaying`;
  }

  #takeTurn<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.#fileTurn.then(fn);
    this.#fileTurn = turn.catch(() => {});
    return turn;
  }

  /** Appends JSON lines and fsyncs them, off the event loop; the file is private (0600, dir 0700). */
  #append(events: PricedUsageEvent[]): Promise<void> {
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    return this.#takeTurn(async () => {
      const dir = path.dirname(this.#spillFile);
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const created = !fs.existsSync(this.#spillFile);
      const file = await fs.promises.open(this.#spillFile, 'a', 0o600);
      try {
        await file.writeFile(text);
        await file.sync();
        if (created) await file.chmod(0o600); // whatever the umask
      } finally {
        await file.close();
      }
      // A new file's directory entry must be durable too, or a power loss can lose the whole file.
      if (created) await syncDirectory(dir);
      this.#spillOnDisk = true;
    });
  }

  async #replaySpill(): Promise<void> {
    // Claim the file first so spills made while we replay go to a new one. A claimed file left by
    // an interrupted replay is finished first (inserts skip events already stored).
    while (this.#spillOnDisk) {
      const claimed = await this.#takeTurn(async () => {
        if (fs.existsSync(this.#claimedFile)) return true;
        if (!fs.existsSync(this.#spillFile)) {
          this.#spillOnDisk = false; // in this turn: an append after it sets it again
          return false;
        }
        await fs.promises.rename(this.#spillFile, this.#claimedFile);
        return true;
      });
      if (!claimed) return;
      const events = parseSpill(await fs.promises.readFile(this.#claimedFile, 'utf8'), this.#price, this.#logger);
      for (let i = 0; i < events.length; i += this.#batchSize) await this.#repository.insertBatch(events.slice(i, i + this.#batchSize));
      await fs.promises.rm(this.#claimedFile);
      this.#logger.info({ events: events.length }, 'replayed spilled usage events');
    }
  }
}

/** The spill file's events; a line cut short by a crash mid-append is skipped (it was never fsynced). */
function parseSpill(text: string, price: ((event: UsageEvent) => EventCost | null) | undefined, logger: Logger): PricedUsageEvent[] {
  const events: PricedUsageEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let e: PricedUsageEvent;
    try {
      e = JSON.parse(line) as PricedUsageEvent;
    } catch {
      logger.warn({ line: line.slice(0, 80) }, 'skipped a truncated line in the usage spill file');
      continue;
    }
    const event = { ...e, occurredAt: new Date(e.occurredAt) };
    // A spill written before events carried their cost: price it now, as of when it happened.
    events.push('cost' in e || !price ? event : { ...event, cost: price(event) });
  }
  return events;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
