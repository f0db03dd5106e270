import { asc, eq } from 'drizzle-orm';
import type { Db } from './client.ts';
import { modelMappings } from './schema.ts';

export type ModelMappingRow = typeof modelMappings.$inferSelect;

/** An admin mapping as the Bedrock model resolver reads it; geographies as stored (the admin API validated them). */
export interface ModelMappingOverride {
  model: string;
  baseId: string;
  geographies: string[];
}

export interface ModelMappingRepository {
  /** Every admin row, as the override mappings the Bedrock model resolver takes. */
  list(): Promise<ModelMappingOverride[]>;
  /** Every admin row with its timestamps (the admin API). */
  rows(): Promise<ModelMappingRow[]>;
  get(model: string): Promise<ModelMappingRow | null>;
  /** Inserts the row, or replaces base id and geographies of an existing one. */
  upsert(input: { model: string; baseId: string; geographies: string[] }): Promise<ModelMappingRow>;
  /** The deleted row, or null when there was none. */
  delete(model: string): Promise<ModelMappingRow | null>;
}

export function createModelMappingRepository(db: Db): ModelMappingRepository {
  return {
    async list() {
      const rows = await db.select().from(modelMappings).orderBy(asc(modelMappings.model));
      return rows.map((r) => ({ model: r.model, baseId: r.baseId, geographies: r.geographies }));
    },
    rows() {
      return db.select().from(modelMappings).orderBy(asc(modelMappings.model));
    },
    async get(model) {
      const [row] = await db.select().from(modelMappings).where(eq(modelMappings.model, model)).limit(1);
      return row ?? null;
    },
    async upsert({ model, baseId, geographies }) {
      const [row] = await db
        .insert(modelMappings)
        .values({ model, baseId, geographies })
        .onConflictDoUpdate({ target: modelMappings.model, set: { baseId, geographies, updatedAt: new Date() } })
        .returning();
      return row!;
    },
    async delete(model) {
      const [row] = await db.delete(modelMappings).where(eq(modelMappings.model, model)).returning();
      return row ?? null;
    },
  };
}
