import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { bedrockKeys } from './schema.ts';

export type BedrockKeyRow = typeof bedrockKeys.$inferSelect;

/** The Bedrock API key of an access key (1:1), only ever as the envelope blob (security/envelope.ts). */
export interface BedrockKeyRepository {
  /** Inserts, or replaces the blob and last four of an existing row (created_at kept, rotated_at now). */
  upsert(input: { accessKeyId: string; encryptedKey: Buffer; last4: string }): Promise<BedrockKeyRow>;
  get(accessKeyId: string): Promise<BedrockKeyRow | null>;
  /** True when a row was deleted. */
  delete(accessKeyId: string): Promise<boolean>;
  /** Which of these access keys have a Bedrock key. */
  configured(accessKeyIds: readonly string[]): Promise<Set<string>>;
  /** The rows of those of these access keys that have a Bedrock key, in one query. */
  getMany(accessKeyIds: readonly string[]): Promise<BedrockKeyRow[]>;
}

export function createBedrockKeyRepository(db: Db): BedrockKeyRepository {
  return {
    async upsert({ accessKeyId, encryptedKey, last4 }) {
      const [row] = await db
        .insert(bedrockKeys)
        .values({ accessKeyId, encryptedKey, last4 })
        .onConflictDoUpdate({
          target: bedrockKeys.accessKeyId,
          set: { encryptedKey, last4, rotatedAt: sql`now()` },
        })
        .returning();
      return row!;
    },
    async get(accessKeyId) {
      const [row] = await db.select().from(bedrockKeys).where(eq(bedrockKeys.accessKeyId, accessKeyId)).limit(1);
      return row ?? null;
    },
    async delete(accessKeyId) {
      const rows = await db.delete(bedrockKeys).where(eq(bedrockKeys.accessKeyId, accessKeyId)).returning({ accessKeyId: bedrockKeys.accessKeyId });
      return rows.length > 0;
    },
    async configured(accessKeyIds) {
      if (accessKeyIds.length === 0) return new Set();
      const rows = await db.select({ id: bedrockKeys.accessKeyId }).from(bedrockKeys).where(inArray(bedrockKeys.accessKeyId, [...accessKeyIds]));
      return new Set(rows.map((r) => r.id));
    },
    async getMany(accessKeyIds) {
      if (accessKeyIds.length === 0) return [];
      return db.select().from(bedrockKeys).where(inArray(bedrockKeys.accessKeyId, [...accessKeyIds]));
    },
  };
}
