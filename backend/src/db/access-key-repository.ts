import { and, desc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { accessKeys, bedrockKeys, users } from './schema.ts';

export type AccessKeyRow = typeof accessKeys.$inferSelect;

/** What the proxy needs of a usable key and its user, in one query. */
export interface DescribedKey {
  id: string;
  keyPrefix: string;
  userId: string;
  userName: string;
  planSwitchThreshold: number | null;
  planOverage: 'stay' | 'move';
}

/** A key whose user's routing wants Bedrock (plan_first, bedrock_only) but that has no Bedrock key. */
export interface KeyWithoutBedrockKey {
  accessKeyId: string;
  keyPrefix: string;
  userId: string;
  userName: string;
  routingStrategy: 'plan_first' | 'bedrock_only';
}

export interface UsableKeyRow {
  accessKeyId: string;
  userId: string;
  keyPrefix: string;
  routingStrategy: 'plan_first' | 'bedrock_only' | 'plan_only';
  bedrockRegion: string | null;
  monthlyBudgetUsd: string | null;
  maxRequestsPerMinute: number | null;
  maxInFlight: number | null;
  planSwitchThreshold: number | null;
  planOverage: 'stay' | 'move';
  /** A rotated key stops working at this instant. */
  expiresAt: Date | null;
}

export interface AccessKeyRepository {
  /** The usable key with this hash: active, or rotating and not yet expired, of an active user. */
  findUsable(keyHash: string): Promise<UsableKeyRow | null>;
  /** `id` may be chosen up front (a rotated key's Bedrock key is encrypted for it before the insert). */
  create(input: { id?: string; userId: string; keyHash: string; keyPrefix: string; bedrockRegion: string | null }): Promise<AccessKeyRow>;
  listByUser(userId: string): Promise<AccessKeyRow[]>;
  /** Prefix, user and the user's Plan rule of each of these keys (one query), for lists keyed by access key id. */
  describe(ids: readonly string[]): Promise<DescribedKey[]>;
  /**
   * Keys with no Bedrock key whose user's routing wants one (admin/fallback-readiness.ts): every
   * active key of an active user, or, with `ids`, those of these keys whatever their status (one query).
   */
  withoutBedrockKey(ids?: readonly string[]): Promise<KeyWithoutBedrockKey[]>;
  get(id: string): Promise<AccessKeyRow | null>;
  revoke(id: string): Promise<AccessKeyRow | null>;
  /** Revokes a key that is not revoked yet; null when there is none (unknown or already revoked). */
  revokeIfLive(id: string): Promise<AccessKeyRow | null>;
  /** Revokes every key of the user not revoked yet; returns them. */
  revokeAllOfUser(userId: string): Promise<AccessKeyRow[]>;
  /** active → rotating until `expiresAt`; null when the key is not active. */
  startRotation(id: string, expiresAt: Date): Promise<AccessKeyRow | null>;
  /** Rotating keys whose grace period is over → revoked (as of their expiry); returns them. */
  revokeExpiredRotations(now?: Date): Promise<AccessKeyRow[]>;
  /** The key's own Bedrock region (null: BEDROCK_REGION); null when the key is unknown or revoked. */
  setRegion(id: string, bedrockRegion: string | null): Promise<AccessKeyRow | null>;
}

export function createAccessKeyRepository(db: Db): AccessKeyRepository {
  return {
    async findUsable(keyHash) {
      const [row] = await db
        .select({
          accessKeyId: accessKeys.id,
          userId: accessKeys.userId,
          keyPrefix: accessKeys.keyPrefix,
          keyStatus: accessKeys.status,
          bedrockRegion: accessKeys.bedrockRegion,
          rotationExpiresAt: accessKeys.rotationExpiresAt,
          routingStrategy: users.routingStrategy,
          monthlyBudgetUsd: users.monthlyBudgetUsd,
          maxRequestsPerMinute: users.maxRequestsPerMinute,
          maxInFlight: users.maxInFlight,
          planSwitchThreshold: users.planSwitchThreshold,
          planOverage: users.planOverage,
          userStatus: users.status,
          deletedAt: users.deletedAt,
        })
        .from(accessKeys)
        .innerJoin(users, eq(users.id, accessKeys.userId))
        .where(eq(accessKeys.keyHash, keyHash))
        .limit(1);
      if (!row || row.userStatus !== 'active' || row.deletedAt) return null;
      const rotatingAlive = row.keyStatus === 'rotating' && (!row.rotationExpiresAt || row.rotationExpiresAt.getTime() > Date.now());
      if (row.keyStatus !== 'active' && !rotatingAlive) return null;
      return {
        accessKeyId: row.accessKeyId,
        userId: row.userId,
        keyPrefix: row.keyPrefix,
        routingStrategy: row.routingStrategy,
        bedrockRegion: row.bedrockRegion,
        monthlyBudgetUsd: row.monthlyBudgetUsd,
        maxRequestsPerMinute: row.maxRequestsPerMinute,
        maxInFlight: row.maxInFlight,
        planSwitchThreshold: row.planSwitchThreshold,
        planOverage: row.planOverage,
        expiresAt: row.keyStatus === 'rotating' ? row.rotationExpiresAt : null,
      };
    },
    async create(input) {
      const [row] = await db.insert(accessKeys).values(input).returning();
      return row!;
    },
    async describe(ids) {
      if (ids.length === 0) return [];
      return db
        .select({
          id: accessKeys.id,
          keyPrefix: accessKeys.keyPrefix,
          userId: accessKeys.userId,
          userName: users.name,
          planSwitchThreshold: users.planSwitchThreshold,
          planOverage: users.planOverage,
        })
        .from(accessKeys)
        .innerJoin(users, eq(users.id, accessKeys.userId))
        .where(inArray(accessKeys.id, [...ids]));
    },
    async withoutBedrockKey(ids) {
      if (ids?.length === 0) return [];
      const where = [isNull(bedrockKeys.accessKeyId), inArray(users.routingStrategy, ['plan_first', 'bedrock_only'])];
      if (ids) where.push(inArray(accessKeys.id, [...ids]));
      else where.push(eq(accessKeys.status, 'active'), eq(users.status, 'active'), isNull(users.deletedAt));
      const rows = await db
        .select({ accessKeyId: accessKeys.id, keyPrefix: accessKeys.keyPrefix, userId: users.id, userName: users.name, routingStrategy: users.routingStrategy })
        .from(accessKeys)
        .innerJoin(users, eq(users.id, accessKeys.userId))
        .leftJoin(bedrockKeys, eq(bedrockKeys.accessKeyId, accessKeys.id))
        .where(and(...where))
        .orderBy(users.name, accessKeys.keyPrefix);
      // The filter above leaves only these two strategies.
      return rows.map((r) => ({ ...r, routingStrategy: r.routingStrategy as KeyWithoutBedrockKey['routingStrategy'] }));
    },
    listByUser(userId) {
      return db.select().from(accessKeys).where(eq(accessKeys.userId, userId)).orderBy(desc(accessKeys.createdAt));
    },
    async get(id) {
      const [row] = await db.select().from(accessKeys).where(eq(accessKeys.id, id)).limit(1);
      return row ?? null;
    },
    async revoke(id) {
      const now = new Date();
      const [row] = await db
        .update(accessKeys)
        .set({ status: 'revoked', revokedAt: now, updatedAt: now })
        .where(and(eq(accessKeys.id, id), isNull(accessKeys.revokedAt)))
        .returning();
      return row ?? (await this.get(id));
    },
    async revokeIfLive(id) {
      const now = new Date();
      const [row] = await db
        .update(accessKeys)
        .set({ status: 'revoked', revokedAt: now, updatedAt: now })
        .where(and(eq(accessKeys.id, id), isNull(accessKeys.revokedAt)))
        .returning();
      return row ?? null;
    },
    revokeAllOfUser(userId) {
      const now = new Date();
      return db
        .update(accessKeys)
        .set({ status: 'revoked', revokedAt: now, updatedAt: now })
        .where(and(eq(accessKeys.userId, userId), isNull(accessKeys.revokedAt)))
        .returning();
    },
    async startRotation(id, expiresAt) {
      const [row] = await db
        .update(accessKeys)
        .set({ status: 'rotating', rotationExpiresAt: expiresAt, updatedAt: new Date() })
        .where(and(eq(accessKeys.id, id), eq(accessKeys.status, 'active')))
        .returning();
      return row ?? null;
    },
    revokeExpiredRotations(now = new Date()) {
      // One UPDATE: when several tasks sweep at once, each expired key is returned to exactly one.
      return db
        .update(accessKeys)
        .set({ status: 'revoked', revokedAt: sql`${accessKeys.rotationExpiresAt}`, updatedAt: now })
        .where(and(eq(accessKeys.status, 'rotating'), lte(accessKeys.rotationExpiresAt, now)))
        .returning();
    },
    async setRegion(id, bedrockRegion) {
      const [row] = await db
        .update(accessKeys)
        .set({ bedrockRegion, updatedAt: new Date() })
        .where(and(eq(accessKeys.id, id), isNull(accessKeys.revokedAt)))
        .returning();
      return row ?? null;
    },
  };
}
