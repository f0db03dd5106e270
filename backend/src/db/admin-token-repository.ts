import { eq, lte } from 'drizzle-orm';
import type { Db } from './client.ts';
import { adminTokenRevocations } from './schema.ts';

/** Admin tokens ended by logout. A JWT is otherwise valid until it expires, on every task. */
export interface AdminTokenRepository {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Forgets revocations of tokens that have expired anyway; returns how many. */
  sweepExpired(now?: Date): Promise<number>;
}

export function createAdminTokenRepository(db: Db): AdminTokenRepository {
  return {
    async revoke(jti, expiresAt) {
      await db.insert(adminTokenRevocations).values({ jti, expiresAt }).onConflictDoNothing();
    },
    async isRevoked(jti) {
      const rows = await db.select({ jti: adminTokenRevocations.jti }).from(adminTokenRevocations).where(eq(adminTokenRevocations.jti, jti)).limit(1);
      return rows.length > 0;
    },
    async sweepExpired(now = new Date()) {
      const rows = await db.delete(adminTokenRevocations).where(lte(adminTokenRevocations.expiresAt, now)).returning({ jti: adminTokenRevocations.jti });
      return rows.length;
    },
  };
}
