import type { AdminTokenRepository } from '../db/admin-token-repository.ts';
import type { Logger } from '../observability/logger.ts';
import { keyJson } from './access-keys.ts';
import { SYSTEM_ACTOR } from './audit.ts';
import type { Transact } from './transaction.ts';

export interface Sweeper {
  /** One pass (tests call it; the timer calls it every interval). Returns the keys it revoked. */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The server's own changes: a rotated key whose grace period is over becomes revoked (audited as
 * `system`, erased Bedrock key, every task told), and logged-out tokens past their expiry are
 * forgotten. The proxy already refuses an expired rotating key by its expiry time; this makes the
 * stored state say so. Every task sweeps; the expiry lives in the database, so a key is revoked
 * by whichever task gets there first, exactly once.
 */
export function startSweeper(deps: { transact: Transact; tokens: AdminTokenRepository; intervalMs: number; logger: Logger }): Sweeper {
  let running: Promise<string[]> | undefined;

  async function pass(): Promise<string[]> {
    const revoked = await deps.transact(SYSTEM_ACTOR, async (tx) => {
      const rows = await tx.accessKeys.revokeExpiredRotations();
      for (const row of rows) {
        const erased = await tx.bedrockKeys.delete(row.id);
        await tx.audit({
          action: 'access_key.rotation_expired',
          targetType: 'access_key',
          targetId: row.id,
          before: { ...keyJson(row, erased), status: 'rotating', revoked_at: null },
          after: { ...keyJson(row, false), bedrock_key_erased: erased },
        });
        tx.changed({ topic: 'access_key', id: row.id });
      }
      return rows.map((r) => r.id);
    });
    await deps.tokens.sweepExpired();
    return revoked;
  }

  const sweep = (): Promise<string[]> => {
    // One pass at a time: a slow database must not pile passes up.
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    sweep().then(
      (ids) => {
        if (ids.length) deps.logger.info({ accessKeyIds: ids }, 'rotated access keys revoked at the end of their grace period');
      },
      (err: unknown) => deps.logger.warn({ err }, 'admin sweep failed; retrying on the next pass'),
    );
  }, deps.intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
