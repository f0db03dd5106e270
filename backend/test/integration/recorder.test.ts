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
    expect(recorder.pending).toBe(30);
    state.down = false;
    await expect.poll(() => recorder.pending, { timeout: 5_000 }).toBe(0);
    expect(await countStored(events.map((e) => e.requestId))).toBe(30);
    await recorder.close();
  });

  it('spills past its memory bound, and replays the spill file once the database answers', async () => {
    const spillFile = path.join(dir, 'c.jsonl');
    const { repository, state } = switchable(createUsageRepository(database.db));
    const recorder = new UsageRecorder({ repository, spillFile, logger: silent, flushIntervalMs: 20, maxBackoffMs: 40, maxQueued: 10 });
    recorder.start();
    state.down = true;
    const events = Array.from({ length: 40 }, (_, i) => event(i));
    for (const e of events) recorder.record(e);
    await expect.poll(() => fs.existsSync(spillFile), { timeout: 5_000 }).toBe(true);
    expect(recorder.pending).toBeLessThanOrEqual(10);
    state.down = false;
    await expect.poll(async () => countStored(events.map((e) => e.requestId)), { timeout: 5_000 }).toBe(40);
    await expect.poll(() => fs.existsSync(spillFile) || fs.existsSync(`${spillFile}.replaying`)).toBe(false);
    await recorder.close();
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
