import { isBedrockGeography, type ModelMapping } from '../bedrock/models.ts';

/** A mapping as stored: geographies are strings there. */
export interface StoredModelMapping {
  model: string;
  baseId: string;
  geographies: readonly string[];
}

export interface ModelMappingCache {
  /** The admin override rows, from memory: the hot path never queries for them. */
  current(): readonly ModelMapping[];
  /** Re-reads the rows (at start, after an admin change, and periodically for other tasks' changes). */
  refresh(): Promise<void>;
  stop(): void;
}

export async function createModelMappingCache(options: {
  load: () => Promise<StoredModelMapping[]>;
  refreshMs?: number;
  onError: (err: unknown) => void;
}): Promise<ModelMappingCache> {
  const load = async (): Promise<ModelMapping[]> =>
    (await options.load()).map((m) => ({ model: m.model, baseId: m.baseId, geographies: m.geographies.filter(isBedrockGeography) }));
  let rows: readonly ModelMapping[] = await load();
  const refresh = async () => {
    rows = await load();
  };
  const timer = setInterval(() => refresh().catch(options.onError), options.refreshMs ?? 60_000);
  timer.unref();
  return { current: () => rows, refresh, stop: () => clearInterval(timer) };
}
