import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageRecorder } from '../../src/usage/recorder.ts';
import type { UsageEvent } from '../../src/accounting/usage-event.ts';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { createUsageRepository, type UsageRepository } from '../../src/db/usage-repository.ts';
import { createUserRepository } from '../../src/db/user-repository.ts';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/db.ts';
import { usageEvent } from '../support/usage-events.ts';

let database: TestDatabase;
let owner: { userId: string; accessKeyId: string };
let dir: string;

beforeAll(async () => {
  database = await openTestDatabase();
  const user = await createUserRepository(database.db).create({ name: 'recorder', description: null });
  const key = await createAccessKeyRepository(database.db).create({ userId: user.id, keyHash: 'f'.repeat(64), keyPrefix: 'ak_test', bedrockRegion: null });
  owner = { userId: user.id, accessKeyId: key.id };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-recorder-'));
});
afterAll(async () => {
  await database.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });

function event(i: number): UsageEvent {
  return usageEvent({ occurredAt: new Date(), ...owner, inputTokens: i, outputTokens: 2 * i, cacheReadTokens: 3, cacheWrite5mTokens: 4, cacheWrite1hTokens: 5 });
}

/** The real repository behind a switch that can make the database "go down". */
function switchable(real: UsageRepository) {
  const state = { down: false, batches: 0 };
  const repository: UsageRepository = {
    async insertBatch(events) {
      if (state.down) throw new Error('connection refused');
      state.batches++;
      return real.insertBatch(events);
    },
  };
  return { repository, state };
}

/** Lines in the spill file, and in its claimed copy (a replay attempt renames it first). */
function spilled(spillFile: string): number {
  return [spillFile, `${spillFile}.replaying`]
    .filter((f) => fs.existsSync(f))
    .reduce((n, f) => n + fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
}

async function countStored(ids: string[]): Promise<number> {
  const rows = await database.db.select({ id: usageEvents.requestId }).from(usageEvents);
  const set = new Set(ids);
  return rows.filter((r) => set.has(r.id)).length;
}

describe(`usage recorder on ${testDatabaseKind()}`, () => {
  it('queues without waiting and writes in batches', async () => {
    const { repository, state } = switchable(createUsageRepository(database.db));
    const recorder = new UsageRecorder({ repository, spillFile: path.join(dir, 'a.jsonl'), logger: silent, batchSize: 100, flushIntervalMs: 60_000 });
    const events = Array.from({ length: 250 }, (_, i) => event(i));
    for (const e of events) recorder.record(e);
    expect(recorder.pending).toBe(250);
    await recorder.flush();
    expect(state.batches).toBe(3);
    expect(await countStored(events.map((e) => e.requestId))).toBe(250);
    await recorder.close();
  });

  it('keeps events through a database outage and writes them once it is back', async () => {
    const { repository, state } = switchable(createUsageRepository(database.db));
    const recorder = new UsageRecorder({ repository, spillFile: path.join(dir, 'b.jsonl'), logger: silent, flushIntervalMs: 20, maxBackoffMs: 40 });
    recorder.start();
    state.down = true;
    const events = Array.from({ length: 30 }, (_, i) => event(i));
    for (const e of events) recorder.record(e);
    await new Promise((r) => setTimeout(r, 150));
    // Out of memory and into the spill file while the database fails.
    expect(recorder.pending).toBe(0);
    expect(spilled(path.join(dir, 'b.jsonl'))).toBe(30);
    state.down = false;
    await expect.poll(async () => countStored(events.map((e) => e.requestId)), { timeout: 5_000 }).toBe(30);
    await recorder.close();
  });

  it('while the database is down, spills every queued event to a private file within the spill interval, and replays it once back', async () => {
    const spillFile = path.join(dir, 'c', 'usage-spill.jsonl');
    const { repository, state } = switchable(createUsageRepository(database.db));
    const recorder = new UsageRecorder({ repository, spillFile, logger: silent, flushIntervalMs: 20, spillIntervalMs: 10, maxBackoffMs: 200 });
    recorder.start();
    state.down = true;
    const first = Array.from({ length: 40 }, (_, i) => event(i));
    for (const e of first) recorder.record(e);
    // Everything leaves memory for the file: a crash now would lose none of it.
    await expect.poll(() => recorder.pending, { timeout: 5_000 }).toBe(0);
    expect(spilled(spillFile)).toBe(40);
    expect(fs.statSync(fs.existsSync(spillFile) ? spillFile : `${spillFile}.replaying`).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(spillFile)).mode & 0o777).toBe(0o700);
    // Recorded later in the outage: spilled too, and not held back by the write backoff.
    const second = Array.from({ length: 5 }, (_, i) => event(i));
    for (const e of second) recorder.record(e);
    await expect.poll(() => recorder.pending, { timeout: 1_000, interval: 5 }).toBe(0);
    const ids = [...first, ...second].map((e) => e.requestId);
    state.down = false;
    await expect.poll(async () => countStored(ids), { timeout: 5_000 }).toBe(45);
    await expect.poll(() => fs.existsSync(spillFile) || fs.existsSync(`${spillFile}.replaying`)).toBe(false);
    await recorder.close();
    expect(await countStored(ids)).toBe(45);
  });

  it('spills a write that hangs past the flush interval; stored once whether the write or the replay lands', async () => {
    const spillFile = path.join(dir, 'h.jsonl');
    const real = createUsageRepository(database.db);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const repository: UsageRepository = {
      async insertBatch(events) {
        if (calls++ === 0) await gate; // the first write hangs (a half-dead connection)
        return real.insertBatch(events);
      },
    };
    const recorder = new UsageRecorder({ repository, spillFile, logger: silent, flushIntervalMs: 20, spillIntervalMs: 10 });
    recorder.start();
    const events = Array.from({ length: 8 }, (_, i) => event(i));
    for (const e of events) recorder.record(e);
    await expect.poll(() => spilled(spillFile), { timeout: 2_000 }).toBe(8);
    release();
    await expect.poll(() => fs.existsSync(spillFile) || fs.existsSync(`${spillFile}.replaying`), { timeout: 5_000 }).toBe(false);
    await recorder.close();
    expect(await countStored(events.map((e) => e.requestId))).toBe(8);
  });

  it('replays a spill file whose last line a crash cut short, skipping only that line', async () => {
    const spillFile = path.join(dir, 't.jsonl');
    const events = Array.from({ length: 3 }, (_, i) => event(i));
    fs.writeFileSync(spillFile, events.map((e) => JSON.stringify(e)).join('\n') + '\n' + JSON.stringify(event(9)).slice(0, 40));
    const recorder = new UsageRecorder({ repository: createUsageRepository(database.db), spillFile, logger: silent, flushIntervalMs: 20 });
    recorder.start();
    await expect.poll(() => fs.existsSync(spillFile) || fs.existsSync(`${spillFile}.replaying`), { timeout: 5_000 }).toBe(false);
    await recorder.close();
    expect(await countStored(events.map((e) => e.requestId))).toBe(3);
  });

  it('spills to the file when the database is down at shutdown; the next start writes them, once', async () => {
    const spillFile = path.join(dir, 'd.jsonl');
    const first = switchable(createUsageRepository(database.db));
    first.state.down = true;
    const recorder = new UsageRecorder({ repository: first.repository, spillFile, logger: silent, flushIntervalMs: 60_000 });
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    for (const e of events) recorder.record(e);
    await recorder.close();
    expect(fs.readFileSync(spillFile, 'utf8').trim().split('\n')).toHaveLength(5);

    // Replaying twice (say, a crash after inserting but before deleting the file) must not double count.
    await createUsageRepository(database.db).insertBatch(events.slice(0, 2));
    const next = new UsageRecorder({ repository: createUsageRepository(database.db), spillFile, logger: silent, flushIntervalMs: 20 });
    next.start();
    // The file is claimed (renamed to .replaying) before it is written: wait until that is gone too.
    await expect.poll(() => fs.existsSync(spillFile) || fs.existsSync(`${spillFile}.replaying`), { timeout: 5_000 }).toBe(false);
    expect(await countStored(events.map((e) => e.requestId))).toBe(5);
    await next.close();
  });
});
