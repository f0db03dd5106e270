import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Granularity } from '../accounting/calendar.ts';
import { normalizeUsd } from '../accounting/money.ts';
import type { UsageTotals } from '../accounting/reports.ts';
import type { Db } from './client.ts';
import { ERROR_OUTCOMES, eventCode } from './request-log-repository.ts';
import { usageEvents, usageRollups, users } from './schema.ts';

export interface UsageFilters {
  userId?: string;
  accessKeyId?: string;
  provider?: 'plan' | 'bedrock';
  model?: string;
}

export interface RollupQuery {
  granularity: Granularity;
  start: Date;
  end: Date;
  filters: UsageFilters;
}

export interface UsageReportRepository {
  /** Sums per rollup bucket in [start, end), ascending. */
  byBucket(query: RollupQuery): Promise<{ bucketStart: Date; totals: UsageTotals }[]>;
  /** Users with the most tokens (all five kinds) or the highest cost in [start, end). */
  topUsers(query: RollupQuery & { by: 'tokens' | 'cost'; limit: number }): Promise<{ userId: string; name: string | null; totals: UsageTotals }[]>;
  /** Sums per provider and model in [start, end), costliest first. */
  byModel(query: RollupQuery): Promise<{ provider: 'plan' | 'bedrock'; model: string; totals: UsageTotals }[]>;
  /**
   * Requests in [start, end); those Bedrock served (completed) after Anthropic failed, per reason;
   * fallbacks that Bedrock did not serve; and fallbacks wanted but impossible, per reason. Read from
   * the events (the rollups keep neither the fallback flag nor the outcome), by the occurred_at indexes.
   */
  fallbacks(query: { start: Date; end: Date; userId?: string | undefined }): Promise<FallbackCounts>;
  /** Errors in [start, end), per code and per bucket (in the time zone, only buckets with traffic): read from the events by the occurred_at index. */
  errors(query: { start: Date; end: Date; userId?: string | undefined; provider?: 'plan' | 'bedrock' | undefined; bucket: 'hour' | 'day'; timeZone: string }): Promise<ErrorCounts>;
  /** For each of these users: their newest request, and this month's requests and cost (month rollups starting at `monthStart`). */
  userActivity(userIds: readonly string[], monthStart: Date): Promise<Map<string, UserActivity>>;
  /** What the Plan windows did in [start, end): read from the events (the rollups keep no Plan readings). */
  plan(query: { start: Date; end: Date; userId?: string; bucket: 'hour' | 'day'; timeZone: string }): Promise<PlanReport>;
}

export interface FallbackCounts {
  requests: number;
  /** Served fallbacks (outcome completed), per reason, most first. */
  served: { reason: string | null; requests: number }[];
  /** Fallbacks Bedrock did not serve: it failed, refused, or the client went away. */
  failed: number;
  /** Requests whose fallback was wanted but impossible, per reason, most first. */
  unavailable: { reason: string; requests: number }[];
}

export interface ErrorCounts {
  requests: number;
  /** Outcomes upstream_error, rejected and failed (request-log-repository.ts ERROR_OUTCOMES). */
  errors: number;
  aborted: number;
  /** Errors per code (request-log-repository.ts eventCode) and status, most first. */
  byCode: { code: string; statusCode: number; requests: number }[];
  buckets: { bucketStart: Date; requests: number; errors: number }[];
}

export interface UserActivity {
  lastSeenAt: Date | null;
  monthRequests: number;
  monthCostUsd: string;
}

/** The Plan side of a period (README, "Plan window"). Money as exact decimal strings. */
export interface PlanReport {
  /** Per bucket (in the time zone, only buckets with traffic): the highest utilization Anthropic reported. */
  buckets: { bucketStart: Date; max5hUtilization: number | null; max7dUtilization: number | null; planRequests: number; bedrockRequests: number }[];
  /** Bedrock-served messages per fallback reason, their cost, and the 5-minute slots they fell in. */
  bedrockByReason: { reason: string | null; requests: number; costUsd: string; minutes: number }[];
  /** Plan traffic priced at Anthropic API rates. */
  planCostUsd: string;
  /** Plan traffic answered after Anthropic had reported a warning threshold crossed: what switching at the warning would have moved to Bedrock. */
  planCostAfterWarningUsd: string;
  /** Requests that moved a Claude Code session to the other provider, and their cache writes' cost. */
  sessionSwitches: number;
  switchCacheWriteCostUsd: string;
}

// Every sum as text: bigint and numeric both arrive as strings from pg, not always from PGlite.
const sums = {
  requests: sql<string>`sum(${usageRollups.requests})::text`,
  unpricedRequests: sql<string>`sum(${usageRollups.unpricedRequests})::text`,
  inputTokens: sql<string>`sum(${usageRollups.inputTokens})::text`,
  outputTokens: sql<string>`sum(${usageRollups.outputTokens})::text`,
  cacheReadTokens: sql<string>`sum(${usageRollups.cacheReadTokens})::text`,
  cacheWrite5mTokens: sql<string>`sum(${usageRollups.cacheWrite5mTokens})::text`,
  cacheWrite1hTokens: sql<string>`sum(${usageRollups.cacheWrite1hTokens})::text`,
  inputCostUsd: sql<string>`sum(${usageRollups.inputCostUsd})::text`,
  outputCostUsd: sql<string>`sum(${usageRollups.outputCostUsd})::text`,
  cacheReadCostUsd: sql<string>`sum(${usageRollups.cacheReadCostUsd})::text`,
  cacheWrite5mCostUsd: sql<string>`sum(${usageRollups.cacheWrite5mCostUsd})::text`,
  cacheWrite1hCostUsd: sql<string>`sum(${usageRollups.cacheWrite1hCostUsd})::text`,
};

type SumRow = { [K in keyof typeof sums]: string | null };

function totalsOf(row: SumRow): UsageTotals {
  const n = (v: string | null) => (v === null ? 0 : Number(v));
  return {
    requests: n(row.requests),
    unpricedRequests: n(row.unpricedRequests),
    inputTokens: n(row.inputTokens),
    outputTokens: n(row.outputTokens),
    cacheReadTokens: n(row.cacheReadTokens),
    cacheWrite5mTokens: n(row.cacheWrite5mTokens),
    cacheWrite1hTokens: n(row.cacheWrite1hTokens),
    inputCostUsd: normalizeUsd(row.inputCostUsd),
    outputCostUsd: normalizeUsd(row.outputCostUsd),
    cacheReadCostUsd: normalizeUsd(row.cacheReadCostUsd),
    cacheWrite5mCostUsd: normalizeUsd(row.cacheWrite5mCostUsd),
    cacheWrite1hCostUsd: normalizeUsd(row.cacheWrite1hCostUsd),
  };
}

function where(query: RollupQuery): SQL {
  const f = query.filters;
  const conditions: SQL[] = [
    eq(usageRollups.granularity, query.granularity),
    gte(usageRollups.bucketStart, query.start),
    lt(usageRollups.bucketStart, query.end),
  ];
  if (f.userId) conditions.push(eq(usageRollups.userId, f.userId));
  if (f.accessKeyId) conditions.push(eq(usageRollups.accessKeyId, f.accessKeyId));
  if (f.provider) conditions.push(eq(usageRollups.provider, f.provider));
  if (f.model) conditions.push(eq(usageRollups.model, f.model));
  return and(...conditions)!;
}

const tokenSum = sql`sum(${usageRollups.inputTokens} + ${usageRollups.outputTokens} + ${usageRollups.cacheReadTokens} + ${usageRollups.cacheWrite5mTokens} + ${usageRollups.cacheWrite1hTokens})`;
const costSum = sql`sum(${usageRollups.inputCostUsd} + ${usageRollups.outputCostUsd} + ${usageRollups.cacheReadCostUsd} + ${usageRollups.cacheWrite5mCostUsd} + ${usageRollups.cacheWrite1hCostUsd})`;

export function createUsageReportRepository(db: Db): UsageReportRepository {
  return {
    async plan(query) {
      const where = [gte(usageEvents.occurredAt, query.start), lt(usageEvents.occurredAt, query.end), eq(usageEvents.endpoint, 'messages')];
      if (query.userId) where.push(eq(usageEvents.userId, query.userId));
      const condition = and(...where);
      const local = sql`date_trunc(${query.bucket}, ${usageEvents.occurredAt} AT TIME ZONE ${query.timeZone}) AT TIME ZONE ${query.timeZone}`;
      const cost = sql`coalesce(${usageEvents.costUsd}, 0)`;
      const [buckets, reasons, [totals]] = await Promise.all([
        db
          .select({
            bucketStart: sql<Date | string>`${local}`,
            max5h: sql<number | null>`max(${usageEvents.plan5hUtilization})`,
            max7d: sql<number | null>`max(${usageEvents.plan7dUtilization})`,
            plan: sql<string>`(count(*) FILTER (WHERE ${usageEvents.provider} = 'plan'))::text`,
            bedrock: sql<string>`(count(*) FILTER (WHERE ${usageEvents.provider} = 'bedrock'))::text`,
          })
          .from(usageEvents)
          .where(condition)
          // By position: the bucket expression's parameters would not match a repeated copy of it.
          .groupBy(sql`1`)
          .orderBy(sql`1`),
        db
          .select({
            reason: usageEvents.fallbackReason,
            requests: sql<string>`count(*)::text`,
            cost: sql<string>`sum(${cost})::text`,
            // Five-minute slots with Bedrock traffic: how long this reason kept the user on Bedrock.
            slots: sql<string>`count(DISTINCT floor(extract(epoch FROM ${usageEvents.occurredAt}) / 300))::text`,
          })
          .from(usageEvents)
          .where(and(condition, eq(usageEvents.provider, 'bedrock')))
          .groupBy(usageEvents.fallbackReason),
        db
          .select({
            planCost: sql<string | null>`(sum(${cost}) FILTER (WHERE ${usageEvents.provider} = 'plan'))::text`,
            afterWarning: sql<string | null>`(sum(${cost}) FILTER (WHERE ${usageEvents.provider} = 'plan' AND ${usageEvents.planStatus} = 'allowed_warning'))::text`,
            switches: sql<string>`(count(*) FILTER (WHERE ${usageEvents.providerSwitch}))::text`,
            switchCost: sql<string | null>`(sum(coalesce(${usageEvents.cacheWrite5mCostUsd}, 0) + coalesce(${usageEvents.cacheWrite1hCostUsd}, 0)) FILTER (WHERE ${usageEvents.providerSwitch}))::text`,
          })
          .from(usageEvents)
          .where(condition),
      ]);
      const num = (v: number | string | null) => (v === null ? null : Number(v));
      return {
        buckets: buckets.map((b) => ({
          bucketStart: new Date(b.bucketStart),
          max5hUtilization: num(b.max5h),
          max7dUtilization: num(b.max7d),
          planRequests: Number(b.plan),
          bedrockRequests: Number(b.bedrock),
        })),
        bedrockByReason: reasons
          .map((r) => ({ reason: r.reason, requests: Number(r.requests), costUsd: normalizeUsd(r.cost), minutes: Number(r.slots) * 5 }))
          .sort((a, b) => b.requests - a.requests || String(a.reason).localeCompare(String(b.reason))),
        planCostUsd: normalizeUsd(totals?.planCost),
        planCostAfterWarningUsd: normalizeUsd(totals?.afterWarning),
        sessionSwitches: Number(totals?.switches ?? 0),
        switchCacheWriteCostUsd: normalizeUsd(totals?.switchCost),
      };
    },
    async fallbacks(query) {
      const conditions = [gte(usageEvents.occurredAt, query.start), lt(usageEvents.occurredAt, query.end)];
      if (query.userId) conditions.push(eq(usageEvents.userId, query.userId));
      const served = sql<boolean>`${usageEvents.outcome} = 'completed'`;
      const rows = await db
        .select({
          isFallback: usageEvents.isFallback,
          served,
          reason: usageEvents.fallbackReason,
          unavailable: usageEvents.fallbackUnavailable,
          requests: sql<string>`count(*)::text`,
        })
        .from(usageEvents)
        .where(and(...conditions))
        // By position: see plan() on repeated expressions.
        .groupBy(sql`1, 2, 3, 4`);
      const perReason = new Map<string | null, number>();
      const unavailable = new Map<string, number>();
      let requests = 0;
      let failed = 0;
      for (const r of rows) {
        const n = Number(r.requests);
        requests += n;
        if (r.isFallback && r.served) perReason.set(r.reason, (perReason.get(r.reason) ?? 0) + n);
        else if (r.isFallback) failed += n;
        if (r.unavailable !== null) unavailable.set(r.unavailable, (unavailable.get(r.unavailable) ?? 0) + n);
      }
      const sorted = <R extends string | null>(counts: Map<R, number>) =>
        [...counts].map(([reason, n]) => ({ reason, requests: n })).sort((a, b) => b.requests - a.requests || String(a.reason).localeCompare(String(b.reason)));
      return { requests, served: sorted(perReason), failed, unavailable: sorted(unavailable) };
    },

    async errors(query) {
      const where = [gte(usageEvents.occurredAt, query.start), lt(usageEvents.occurredAt, query.end)];
      if (query.userId) where.push(eq(usageEvents.userId, query.userId));
      if (query.provider) where.push(eq(usageEvents.provider, query.provider));
      const condition = and(...where);
      const isError = inArray(usageEvents.outcome, [...ERROR_OUTCOMES]);
      const local = sql`date_trunc(${query.bucket}, ${usageEvents.occurredAt} AT TIME ZONE ${query.timeZone}) AT TIME ZONE ${query.timeZone}`;
      const [buckets, codes, [totals]] = await Promise.all([
        db
          .select({
            bucketStart: sql<Date | string>`${local}`,
            requests: sql<string>`count(*)::text`,
            errors: sql<string>`(count(*) FILTER (WHERE ${isError}))::text`,
          })
          .from(usageEvents)
          .where(condition)
          .groupBy(sql`1`)
          .orderBy(sql`1`),
        db
          .select({ code: eventCode, statusCode: usageEvents.statusCode, requests: sql<string>`count(*)::text` })
          .from(usageEvents)
          .where(and(condition, isError))
          .groupBy(sql`1, 2`),
        db
          .select({ requests: sql<string>`count(*)::text`, aborted: sql<string>`(count(*) FILTER (WHERE ${usageEvents.outcome} = 'aborted'))::text` })
          .from(usageEvents)
          .where(condition),
      ]);
      const byCode = codes
        .map((c) => ({ code: c.code, statusCode: c.statusCode, requests: Number(c.requests) }))
        .sort((a, b) => b.requests - a.requests || a.code.localeCompare(b.code) || a.statusCode - b.statusCode);
      return {
        requests: Number(totals?.requests ?? 0),
        errors: byCode.reduce((n, c) => n + c.requests, 0),
        aborted: Number(totals?.aborted ?? 0),
        byCode,
        buckets: buckets.map((b) => ({ bucketStart: new Date(b.bucketStart), requests: Number(b.requests), errors: Number(b.errors) })),
      };
    },

    async userActivity(userIds, monthStart) {
      const out = new Map<string, UserActivity>();
      if (userIds.length === 0) return out;
      const [seen, month] = await Promise.all([
        // One index probe (usage_events_user_time) per user: max() of a correlated subquery, not a scan of their events.
        db
          .select({
            userId: users.id,
            // Columns spelled out with an alias: a one-table select names its columns without their table.
            lastSeen: sql<string | null>`(SELECT to_char(max(e.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM ${usageEvents} e WHERE e.user_id = ${users}.id)`,
          })
          .from(users)
          .where(inArray(users.id, [...userIds])),
        db
          .select({ userId: usageRollups.userId, requests: sums.requests, cost: sql<string | null>`${costSum}::text` })
          .from(usageRollups)
          .where(and(eq(usageRollups.granularity, 'month'), eq(usageRollups.bucketStart, monthStart), inArray(usageRollups.userId, [...userIds])))
          .groupBy(usageRollups.userId),
      ]);
      for (const s of seen) out.set(s.userId, { lastSeenAt: s.lastSeen === null ? null : new Date(s.lastSeen), monthRequests: 0, monthCostUsd: '0.00' });
      for (const m of month) {
        const activity = out.get(m.userId);
        if (activity) Object.assign(activity, { monthRequests: Number(m.requests ?? 0), monthCostUsd: normalizeUsd(m.cost) });
      }
      return out;
    },

    async byBucket(query) {
      const rows = await db
        .select({ bucketStart: usageRollups.bucketStart, ...sums })
        .from(usageRollups)
        .where(where(query))
        .groupBy(usageRollups.bucketStart)
        .orderBy(asc(usageRollups.bucketStart));
      return rows.map((r) => ({ bucketStart: r.bucketStart, totals: totalsOf(r) }));
    },

    async topUsers(query) {
      const rows = await db
        .select({ userId: usageRollups.userId, name: users.name, ...sums })
        .from(usageRollups)
        .leftJoin(users, eq(users.id, usageRollups.userId))
        .where(where(query))
        .groupBy(usageRollups.userId, users.name)
        .orderBy(desc(query.by === 'cost' ? costSum : tokenSum), asc(usageRollups.userId))
        .limit(query.limit);
      return rows.map((r) => ({ userId: r.userId, name: r.name, totals: totalsOf(r) }));
    },

    async byModel(query) {
      const rows = await db
        .select({ provider: usageRollups.provider, model: usageRollups.model, ...sums })
        .from(usageRollups)
        .where(where(query))
        .groupBy(usageRollups.provider, usageRollups.model)
        .orderBy(desc(costSum), asc(usageRollups.provider), asc(usageRollups.model));
      return rows.map((r) => ({ provider: r.provider, model: r.model, totals: totalsOf(r) }));
    },
  };
}
