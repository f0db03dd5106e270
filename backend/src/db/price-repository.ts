import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { DefaultPrice } from '../accounting/default-prices.ts';
import { normalizeUsd } from '../accounting/money.ts';
import type { ModelPrice, PriceProvider, PriceRates } from '../accounting/pricing.ts';
import type { Db } from './client.ts';
import { modelPrices } from './schema.ts';

type PriceRow = typeof modelPrices.$inferSelect;

export interface NewPrice {
  provider: PriceProvider;
  region: string | null;
  model: string;
  rates: PriceRates;
  longContext: { thresholdTokens: number; rates: PriceRates } | null;
  effectiveFrom: Date;
}

export interface PriceRepository {
  /** Every row, history included (the price book picks the one in effect per request). */
  list(): Promise<ModelPrice[]>;
  get(id: string): Promise<ModelPrice | null>;
  /** Adds a row; a row with the same provider, region, model and effective time is a unique violation. */
  add(price: NewPrice): Promise<ModelPrice>;
  /** Deletes a row not yet in effect at `now`; null when there is no such row. */
  deleteScheduled(id: string, now: Date): Promise<ModelPrice | null>;
  /** Inserts the shipped rows that are not there yet; returns how many were added. */
  seed(defaults: readonly DefaultPrice[]): Promise<number>;
}

function ratesFrom(input: string, output: string, cacheWrite5m: string, cacheWrite1h: string, cacheRead: string): PriceRates {
  // numeric(12,6) comes back padded ("5.000000"): store-independent canonical strings instead.
  return {
    input: normalizeUsd(input),
    output: normalizeUsd(output),
    cacheWrite5m: normalizeUsd(cacheWrite5m),
    cacheWrite1h: normalizeUsd(cacheWrite1h),
    cacheRead: normalizeUsd(cacheRead),
  };
}

export function toModelPrice(row: PriceRow): ModelPrice {
  const long =
    row.longContextThresholdTokens !== null &&
    row.longContextInputUsdPerMtok !== null &&
    row.longContextOutputUsdPerMtok !== null &&
    row.longContextCacheWrite5mUsdPerMtok !== null &&
    row.longContextCacheWrite1hUsdPerMtok !== null &&
    row.longContextCacheReadUsdPerMtok !== null
      ? {
          thresholdTokens: row.longContextThresholdTokens,
          rates: ratesFrom(
            row.longContextInputUsdPerMtok,
            row.longContextOutputUsdPerMtok,
            row.longContextCacheWrite5mUsdPerMtok,
            row.longContextCacheWrite1hUsdPerMtok,
            row.longContextCacheReadUsdPerMtok,
          ),
        }
      : null;
  return {
    id: String(row.id),
    provider: row.provider,
    region: row.region,
    model: row.model,
    rates: ratesFrom(row.inputUsdPerMtok, row.outputUsdPerMtok, row.cacheWrite5mUsdPerMtok, row.cacheWrite1hUsdPerMtok, row.cacheReadUsdPerMtok),
    longContext: long,
    effectiveFrom: row.effectiveFrom,
  };
}

function toRow(p: NewPrice): typeof modelPrices.$inferInsert {
  return {
    provider: p.provider,
    region: p.region?.toLowerCase() ?? null,
    model: p.model.toLowerCase(),
    inputUsdPerMtok: p.rates.input,
    outputUsdPerMtok: p.rates.output,
    cacheWrite5mUsdPerMtok: p.rates.cacheWrite5m,
    cacheWrite1hUsdPerMtok: p.rates.cacheWrite1h,
    cacheReadUsdPerMtok: p.rates.cacheRead,
    longContextThresholdTokens: p.longContext?.thresholdTokens ?? null,
    longContextInputUsdPerMtok: p.longContext?.rates.input ?? null,
    longContextOutputUsdPerMtok: p.longContext?.rates.output ?? null,
    longContextCacheWrite5mUsdPerMtok: p.longContext?.rates.cacheWrite5m ?? null,
    longContextCacheWrite1hUsdPerMtok: p.longContext?.rates.cacheWrite1h ?? null,
    longContextCacheReadUsdPerMtok: p.longContext?.rates.cacheRead ?? null,
    effectiveFrom: p.effectiveFrom,
  };
}

export function createPriceRepository(db: Db): PriceRepository {
  return {
    async list() {
      const rows = await db
        .select()
        .from(modelPrices)
        .orderBy(asc(modelPrices.provider), asc(modelPrices.model), asc(modelPrices.region), desc(modelPrices.effectiveFrom));
      return rows.map(toModelPrice);
    },
    async get(id) {
      if (!/^\d{1,18}$/.test(id)) return null;
      const [row] = await db.select().from(modelPrices).where(eq(modelPrices.id, Number(id))).limit(1);
      return row ? toModelPrice(row) : null;
    },
    async add(price) {
      const [row] = await db.insert(modelPrices).values(toRow(price)).returning();
      return toModelPrice(row!);
    },
    async deleteScheduled(id, now) {
      if (!/^\d{1,18}$/.test(id)) return null;
      const [row] = await db
        .delete(modelPrices)
        .where(and(eq(modelPrices.id, Number(id)), gt(modelPrices.effectiveFrom, now)))
        .returning();
      return row ? toModelPrice(row) : null;
    },
    async seed(defaults) {
      if (defaults.length === 0) return 0;
      // Several tasks starting at once insert the same rows: the unique key makes that harmless.
      const inserted = await db.insert(modelPrices).values(defaults.map(toRow)).onConflictDoNothing().returning({ id: modelPrices.id });
      return inserted.length;
    },
  };
}
