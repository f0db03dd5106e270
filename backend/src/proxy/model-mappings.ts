import type { ModelMapping } from '../bedrock/models.ts';

export interface ModelMappingCache {
  /** The admin override rows, from memory: the hot path never queries for them. */
  current(): readonly ModelMapping[];
  /** Re-reads the rows (at start, after an admin change, and periodically for other tasks' changes). */
  refresh(): Promise<void>;
  stop(): void;
}

export async function createModelMappingCache(options: {
  load: () => Promise<ModelMapping[]>;
  refreshMs?: number;
  onError: (err: unknown) => void;
}): Promise<ModelMappingCache> {
  let rows: readonly ModelMapping[] = await options.load();
  const refresh = async () => {
    rows = await options.load();
  };
  const timer = setInterval(() => refresh().catch(options.onError), options.refreshMs ?? 60_000);
  timer.unref();
  return { current: () => rows, refresh, stop: () => clearInterval(timer) };
}
