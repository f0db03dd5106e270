import { createPriceBook, type ModelPrice, type PriceBook } from './pricing.ts';

export interface PriceCache {
  /** The price book from memory: pricing a request never queries the database. */
  current(): PriceBook;
  /** Re-reads the rows (at start, after an admin change, and periodically for other tasks' changes). */
  refresh(): Promise<void>;
  stop(): void;
}

export async function createPriceCache(options: {
  load: () => Promise<ModelPrice[]>;
  refreshMs?: number;
  onError: (err: unknown) => void;
}): Promise<PriceCache> {
  let book = createPriceBook(await options.load());
  const refresh = async () => {
    book = createPriceBook(await options.load());
  };
  // Another task's admin change (or a scheduled price taking effect: that needs no reload) reaches
  // this one within the interval even if no notification arrives.
  const timer = setInterval(() => refresh().catch(options.onError), options.refreshMs ?? 60_000);
  timer.unref();
  return { current: () => book, refresh, stop: () => clearInterval(timer) };
}
