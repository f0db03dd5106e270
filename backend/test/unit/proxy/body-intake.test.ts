import { PassThrough, type Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../../src/anthropic/errors.ts';
import { createBodyIntake, type BodyReading } from '../../../src/proxy/body-intake.ts';

const MB = 1024 * 1024;
const options = { maxBufferedBytes: 10 * MB, maxUploadsPerKey: 2, minBytesPerSecond: 1024, graceMs: 10_000, checkEveryMs: 1_000 };

/** Reads a wrapped body to its end or its error. */
function drain(body: Readable): Promise<{ bytes: number; error: unknown }> {
  return new Promise((resolve) => {
    let bytes = 0;
    body.on('data', (c: Buffer) => (bytes += c.length));
    body.once('end', () => resolve({ bytes, error: null }));
    body.once('error', (error) => resolve({ bytes, error }));
  });
}

const reading = (r: ProxyError | BodyReading): BodyReading => {
  if (r instanceof ProxyError) throw r;
  return r;
};

afterEach(() => vi.useRealTimers());

describe('body intake', () => {
  it('passes a body through, counts it while its request lasts and frees it after', async () => {
    const intake = createBodyIntake(options);
    const r = reading(intake.start('k', 3));
    const source = new PassThrough();
    const read = drain(r.wrap(source));
    source.end(Buffer.from('abc'));
    expect(await read).toEqual({ bytes: 3, error: null });
    expect(intake.bufferedBytes).toBe(3);
    r.release();
    r.release();
    expect(intake.bufferedBytes).toBe(0);
  });

  it('refuses a body that would not fit the task-wide budget before reading it, and cuts one that grows past it', async () => {
    const intake = createBodyIntake(options);
    const held = reading(intake.start('a', 8 * MB));
    const first = new PassThrough();
    const firstRead = drain(held.wrap(first));
    first.end(Buffer.alloc(8 * MB));
    await firstRead;
    const refused = intake.start('b', 3 * MB);
    expect(refused).toMatchObject({ code: 'PROXY_BODY_BUDGET', status: 529, headers: { 'retry-after': '2' } });
    // No content-length: cut as soon as it crosses the budget.
    const chunked = reading(intake.start('b', null));
    const source = new PassThrough();
    const read = drain(chunked.wrap(source));
    source.write(Buffer.alloc(3 * MB));
    expect((await read).error).toMatchObject({ code: 'PROXY_BODY_BUDGET' });
    chunked.release();
    held.release();
    expect(intake.bufferedBytes).toBe(0);
  });

  it('lets one key send only so many bodies at once', async () => {
    const intake = createBodyIntake(options);
    const one = reading(intake.start('k', 1));
    reading(intake.start('k', 1));
    expect(intake.start('k', 1)).toMatchObject({ code: 'PROXY_KEY_UPLOADS', status: 429 });
    expect(intake.start('other', 1)).not.toBeInstanceOf(ProxyError);
    // A finished upload frees its slot, even while its request still runs.
    const source = new PassThrough();
    const read = drain(one.wrap(source));
    source.end(Buffer.from('x'));
    await read;
    expect(intake.start('k', 1)).not.toBeInstanceOf(ProxyError);
  });

  it('cuts a body that trickles below the minimum rate once the grace period has passed, not before', async () => {
    vi.useFakeTimers();
    const intake = createBodyIntake({ ...options, now: () => Date.now() });
    const r = reading(intake.start('k', 1 * MB));
    const source = new PassThrough();
    const read = drain(r.wrap(source));
    // A byte every second: far below 1 KB/s, but within the grace period nothing happens.
    for (let s = 0; s < 9; s++) {
      source.write(Buffer.from('x'));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    let settled = false;
    void read.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await read).error).toMatchObject({ code: 'PROXY_BODY_TOO_SLOW', status: 408 });
    // Its upload slot is free again.
    reading(intake.start('k', 1));
    reading(intake.start('k', 1));
  });

  it('lets a body at a steady fast rate run past the grace period', async () => {
    vi.useFakeTimers();
    const intake = createBodyIntake({ ...options, now: () => Date.now() });
    const r = reading(intake.start('k', null));
    const source = new PassThrough();
    const read = drain(r.wrap(source));
    for (let s = 0; s < 20; s++) {
      source.write(Buffer.alloc(2048));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    source.end();
    expect(await read).toEqual({ bytes: 40_960, error: null });
  });
});
