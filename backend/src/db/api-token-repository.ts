import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { apiTokens } from './schema.ts';

export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type ApiTokenRole = ApiTokenRow['role'];

/** Automation tokens (admin/tokens.ts): created, listed, revoked; found by hash on each request. */
export interface ApiTokenRepository {
  create(input: { name: string; role: ApiTokenRole; tokenHash: string; tokenPrefix: string; createdBy: string; expiresAt: Date }): Promise<ApiTokenRow>;
  list(): Promise<ApiTokenRow[]>;
  get(id: string): Promise<ApiTokenRow | null>;
  /** Revokes a live token; null when there is none (unknown or already revoked). */
  revoke(id: string): Promise<ApiTokenRow | null>;
  /** The token with this hash when it is neither revoked nor expired. */
  findUsable(tokenHash: string, now?: Date): Promise<ApiTokenRow | null>;
  /** Notes a use: written at most once a minute per token, so a busy script does not write on every call. */
  touch(id: string): Promise<void>;
}

export function createApiTokenRepository(db: Db): ApiTokenRepository {
  return {
    async create(input) {
      const [row] = await db.insert(apiTokens).values(input).returning();
      return row!;
    },
    async list() {
      return db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt));
    },
    async get(id) {
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id));
      return row ?? null;
    },
    async revoke(id) {
      const [row] = await db
        .update(apiTokens)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        .returning();
      return row ?? null;
    },
    async findUsable(tokenHash, now = new Date()) {
      const [row] = await db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, now)));
      return row ?? null;
    },
    async touch(id) {
      await db
        .update(apiTokens)
        .set({ lastUsedAt: sql`now()` })
        .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`))));
    },
  };
}
