import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PricedUsageEvent } from '../../src/accounting/cost.ts';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { createSettingsRepository } from '../../src/db/settings-repository.ts';
import { createUsageRepository } from '../../src/db/usage-repository.ts';
import { createUserRepository } from '../../src/db/user-repository.ts';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../support/db.ts';
import { usageEvent } from '../unit/accounting/fixtures.ts';

// What main.ts reads to settle a database's time zone (config.ts, settleTimeZone), on both drivers.

let database: TestDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.dispose());

describe(`settings repository on ${testDatabaseKind()}`, () => {
  it('has no zone and nothing cut in one on a new database, then the recorded zone', async () => {
    const settings = createSettingsRepository(database.db);
    expect(await settings.timeZone()).toEqual({ timeZone: null, hasZonedData: false, latestDayStart: null });
    await settings.recordTimeZone('Europe/Berlin');
    expect(await settings.timeZone()).toEqual({ timeZone: 'Europe/Berlin', hasZonedData: false, latestDayStart: null });
  });

  it('sees rollups, and where the latest day bucket starts', async () => {
    const user = await createUserRepository(database.db).create({ name: 'zone-writer', description: null });
    const key = await createAccessKeyRepository(database.db).create({ userId: user.id, keyHash: 'z'.repeat(64), keyPrefix: 'ak_zone', bedrockRegion: null });
    const at = (iso: string): PricedUsageEvent => ({ ...usageEvent({ userId: user.id, accessKeyId: key.id, occurredAt: new Date(iso), inputTokens: 1 }), cost: null });
    await createUsageRepository(database.db, { timeZone: 'Asia/Seoul' }).insertBatch([at('2026-11-20T01:00:00Z'), at('2026-11-25T03:00:00Z')]);
    expect(await createSettingsRepository(database.db).timeZone()).toEqual({
      timeZone: 'Europe/Berlin',
      hasZonedData: true,
      latestDayStart: new Date('2026-11-24T15:00:00Z'), // 25 November, 00:00 in Seoul
    });
  });
});
