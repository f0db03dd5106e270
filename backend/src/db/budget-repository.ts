import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { formatUsd, sumUsd, toPico } from '../accounting/money.ts';
import type { Db } from './client.ts';
import { budgetLedgers, budgetReservations, users } from './schema.ts';

/** A change to one user's ledger for one budget month: spend recorded, reservations released. */
export interface LedgerDelta {
  userId: string;
  periodStart: Date;
  spentUsd: string;
  releasedUsd: string;
}

export interface BudgetStatusRow {
  monthlyBudgetUsd: string | null;
  spentUsd: string;
  reservedUsd: string;
}

export interface BudgetRepository {
  /**
   * Reserves `amountUsd` of the user's budget for `periodStart` if spent + reserved + amount stays
   * within the user's current limit: one statement, so concurrent reservations, in any number of
   * processes, are decided one after the other on the ledger row's lock. Null: it does not fit (or
   * the user has no budget any more).
   */
  reserve(input: { userId: string; periodStart: Date; amountUsd: string; requestId: string; expiresAt: Date }): Promise<{ id: number; spentUsd: string } | null>;
  /** The user's limit and that month's ledger; null when the user does not exist. */
  status(userId: string, periodStart: Date): Promise<BudgetStatusRow | null>;
  /** The same for several users in one query (the user list); users that do not exist are left out. */
  statuses(userIds: readonly string[], periodStart: Date): Promise<Map<string, BudgetStatusRow>>;
  /**
   * Expired reservations whose request never settled them (its process died): each is settled at
   * its reserved worst case (moved from reserved to spent), or only released if the request's
   * usage event was stored after all. Returns how many.
   */
  sweepExpired(now: Date): Promise<number>;
  /**
   * Settles reservations inside the usage writer's transaction: deletes them, returns what they
   * still held. One the sweep already settled at its worst case is left out, and its worst case is
   * taken back out of spent (the caller adds the real cost).
   */
  takeReservations(ids: readonly number[]): Promise<{ userId: string; periodStart: Date; amountUsd: string }[]>;
  applyLedgerDeltas(deltas: readonly LedgerDelta[]): Promise<void>;
}

/** expires_at of a reservation the sweep settled at its worst case: never expires again. */
const SETTLED = sql`'infinity'::timestamptz`;
/** How long such a marker waits for its request's usage event (a spill file replayed late). */
const SETTLED_MARKER_DAYS = 62;

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown): T[] => (result as Rows<T>).rows;

export function createBudgetRepository(db: Db): BudgetRepository {
  return {
    async reserve({ userId, periodStart, amountUsd, requestId, expiresAt }) {
      // The ledger row is created by the first reservation of the month (if the amount alone fits),
      // otherwise updated only if the sum still fits. ON CONFLICT DO UPDATE re-checks its WHERE on
      // the latest committed row after waiting for its lock, which is what makes this atomic.
      const result = await db.execute(sql`
        WITH ledger AS (
          INSERT INTO budget_ledgers AS l (user_id, period_start, spent_usd, reserved_usd)
          SELECT u.id, ${periodStart.toISOString()}::timestamptz, 0, ${amountUsd}::numeric
            FROM users u
           WHERE u.id = ${userId}::uuid AND ${amountUsd}::numeric <= u.monthly_budget_usd
          ON CONFLICT (user_id, period_start) DO UPDATE
            SET reserved_usd = l.reserved_usd + EXCLUDED.reserved_usd, updated_at = now()
            WHERE l.spent_usd + l.reserved_usd + EXCLUDED.reserved_usd
                  <= (SELECT monthly_budget_usd FROM users WHERE id = l.user_id)
          RETURNING l.user_id, l.period_start, l.spent_usd
        ), reservation AS (
          INSERT INTO budget_reservations (user_id, period_start, amount_usd, request_id, expires_at)
          SELECT user_id, period_start, ${amountUsd}::numeric, ${requestId}, ${expiresAt.toISOString()}::timestamptz FROM ledger
          RETURNING id
        )
        SELECT reservation.id, ledger.spent_usd::text AS spent_usd FROM reservation, ledger`);
      const [row] = rowsOf<{ id: string | number; spent_usd: string }>(result);
      return row ? { id: Number(row.id), spentUsd: row.spent_usd } : null;
    },

    async status(userId, periodStart) {
      const [row] = await db
        .select({ monthlyBudgetUsd: users.monthlyBudgetUsd, spentUsd: budgetLedgers.spentUsd, reservedUsd: budgetLedgers.reservedUsd })
        .from(users)
        .leftJoin(budgetLedgers, and(eq(budgetLedgers.userId, users.id), eq(budgetLedgers.periodStart, periodStart)))
        .where(eq(users.id, userId))
        .limit(1);
      if (!row) return null;
      return { monthlyBudgetUsd: row.monthlyBudgetUsd, spentUsd: row.spentUsd ?? '0', reservedUsd: row.reservedUsd ?? '0' };
    },

    async statuses(userIds, periodStart) {
      if (userIds.length === 0) return new Map();
      const rows = await db
        .select({ userId: users.id, monthlyBudgetUsd: users.monthlyBudgetUsd, spentUsd: budgetLedgers.spentUsd, reservedUsd: budgetLedgers.reservedUsd })
        .from(users)
        .leftJoin(budgetLedgers, and(eq(budgetLedgers.userId, users.id), eq(budgetLedgers.periodStart, periodStart)))
        .where(inArray(users.id, [...userIds]));
      return new Map(rows.map((r) => [r.userId, { monthlyBudgetUsd: r.monthlyBudgetUsd, spentUsd: r.spentUsd ?? '0', reservedUsd: r.reservedUsd ?? '0' }]));
    },

    async sweepExpired(now) {
      return db.transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        // SKIP LOCKED: a reservation being settled right now by the usage writer is its business.
        // `stored`: the request's usage event is in the database after all, so its real cost is
        // already in spent; only then is the hold simply released.
        const expired = rowsOf<{ id: string | number; user_id: string; period_start: string | Date; amount_usd: string; stored: boolean }>(
          await tx.execute(sql`
            SELECT r.id, r.user_id, r.period_start, r.amount_usd,
                   EXISTS (SELECT 1 FROM usage_events e WHERE e.request_id = r.request_id) AS stored
              FROM budget_reservations r
             WHERE r.expires_at < ${now.toISOString()}::timestamptz
             ORDER BY r.id LIMIT 1000
               FOR UPDATE OF r SKIP LOCKED`),
        );
        if (expired.length > 0) {
          const ids = (stored: boolean) => expired.filter((r) => r.stored === stored).map((r) => Number(r.id));
          const storedIds = ids(true);
          const unsettledIds = ids(false);
          if (storedIds.length > 0) await tx.delete(budgetReservations).where(inArray(budgetReservations.id, storedIds));
          // Settled at the worst case and kept as a marker (expires never), so that a usage event
          // arriving later still (a spill file replayed) swaps the worst case for its real cost.
          if (unsettledIds.length > 0) await tx.update(budgetReservations).set({ expiresAt: SETTLED }).where(inArray(budgetReservations.id, unsettledIds));
          await createBudgetRepository(tx).applyLedgerDeltas(
            expired.map((r) => ({
              userId: r.user_id,
              periodStart: new Date(r.period_start),
              spentUsd: r.stored ? '0' : r.amount_usd,
              releasedUsd: r.amount_usd,
            })),
          );
        }
        // Markers only wait for a late event; after SETTLED_MARKER_DAYS none will come.
        await tx.execute(sql`
          DELETE FROM budget_reservations
           WHERE expires_at = ${SETTLED} AND created_at < ${new Date(now.getTime() - SETTLED_MARKER_DAYS * 86_400_000).toISOString()}::timestamptz`);
        return expired.length;
      });
    },

    async takeReservations(ids) {
      if (ids.length === 0) return [];
      const taken = rowsOf<{ user_id: string; period_start: string | Date; amount_usd: string; settled: boolean }>(
        await db.execute(sql`
          DELETE FROM budget_reservations WHERE id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})
          RETURNING user_id, period_start, amount_usd, expires_at = ${SETTLED} AS settled`),
      );
      const rows = taken.map((r) => ({ userId: r.user_id, periodStart: new Date(r.period_start), amountUsd: r.amount_usd, settled: r.settled }));
      // Swept while its event was away: the worst case is already in spent and the caller adds the
      // real cost, so the worst case comes out of spent here; nothing is held any more to release.
      const late = rows.filter((r) => r.settled);
      if (late.length > 0) {
        await createBudgetRepository(db).applyLedgerDeltas(
          late.map((r) => ({ userId: r.userId, periodStart: r.periodStart, spentUsd: formatUsd(-toPico(r.amountUsd)), releasedUsd: '0' })),
        );
      }
      return rows.filter((r) => !r.settled).map(({ userId, periodStart, amountUsd }) => ({ userId, periodStart, amountUsd }));
    },

    async applyLedgerDeltas(deltas) {
      const merged = mergeDeltas(deltas);
      if (merged.length === 0) return;
      // One statement, rows locked in key order (the usage writer and the sweeper both come through
      // here, so they cannot deadlock). A release never takes reserved below zero: that would be
      // budget handed out twice.
      const values: SQL[] = merged.map(
        (d) => sql`(${d.userId}::uuid, ${d.periodStart.toISOString()}::timestamptz, ${d.spentUsd}::numeric, ${d.releasedUsd}::numeric)`,
      );
      await db.execute(sql`
        WITH d (user_id, period_start, spent, released) AS (VALUES ${sql.join(values, sql`, `)})
        INSERT INTO budget_ledgers AS l (user_id, period_start, spent_usd, reserved_usd)
        SELECT user_id, period_start, spent, 0 FROM d ORDER BY user_id, period_start
        ON CONFLICT (user_id, period_start) DO UPDATE
          SET spent_usd = l.spent_usd + EXCLUDED.spent_usd,
              reserved_usd = GREATEST(l.reserved_usd - (SELECT released FROM d WHERE d.user_id = EXCLUDED.user_id AND d.period_start = EXCLUDED.period_start), 0),
              updated_at = now()`);
    },
  };
}

/** One delta per user and month, sorted by that key (exact decimal sums). */
function mergeDeltas(deltas: readonly LedgerDelta[]): LedgerDelta[] {
  const byKey = new Map<string, { userId: string; periodStart: Date; spent: string[]; released: string[] }>();
  for (const d of deltas) {
    const key = `${d.userId}|${d.periodStart.toISOString()}`;
    const m = byKey.get(key) ?? { userId: d.userId, periodStart: d.periodStart, spent: [], released: [] };
    m.spent.push(d.spentUsd);
    m.released.push(d.releasedUsd);
    byKey.set(key, m);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, m]) => ({ userId: m.userId, periodStart: m.periodStart, spentUsd: sumUsd(m.spent), releasedUsd: sumUsd(m.released) }));
}
