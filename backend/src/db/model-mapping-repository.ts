import { asc } from 'drizzle-orm';
import type { BedrockGeography, ModelMapping } from '../bedrock/models.ts';
import type { Db } from './client.ts';
import { modelMappings } from './schema.ts';

export interface ModelMappingRepository {
  /** Every admin row, as the override mappings the Bedrock model resolver takes. */
  list(): Promise<ModelMapping[]>;
}

export function createModelMappingRepository(db: Db): ModelMappingRepository {
  return {
    async list() {
      const rows = await db.select().from(modelMappings).orderBy(asc(modelMappings.model));
      return rows.map((r) => ({ model: r.model, baseId: r.baseId, geographies: r.geographies as BedrockGeography[] }));
    },
  };
}
