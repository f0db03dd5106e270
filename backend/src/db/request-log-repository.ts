import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import { normalizeUsd } from '../accounting/money.ts';
import type { UsageOutcome } from '../accounting/usage-event.ts';
import type { Db } from './client.ts';
import { accessKeys, usageEvents, users } from './schema.ts';

// The request log (README, "Requests and errors"): usage_events one by one, newest first, paged by
// position (occurred_at, id) on the index of migrations/0008_request_log.sql, never by OFFSET (which
// rereads every skipped row and shifts when new requests arrive).

/**
 * What a request's answer is called in the log and the error report: the proxy's own code, else the
 * upstream's error type, else its status (`http_502`).
 */
export const eventCode = sql<string>`coalesce(${usageEvents.errorCode}, ${usageEvents.errorType}, 'http_' || ${usageEvents.statusCode})`;

/** Outcomes that count as errors; `aborted` (the client went away) does not. */
export const ERROR_OUTCOMES = ['upstream_error', 'rejected', 'failed'] as const satisfies readonly UsageOutcome[];

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

export interface RequestLogFilters {
  userId?: string | undefined;
  accessKeyId?: string | undefined;
  provider?: 'plan' | 'bedrock' | undefined;
  /** The requested or the served model. */
  model?: string | undefined;
  statusClass?: StatusClass | undefined;
  outcome?: UsageOutcome | undefined;
  /** As `eventCode` names it. */
  code?: string | undefined;
  fallbackUnavailable?: 'no_bedrock_key' | 'no_mapping' | undefined;
  fallback?: boolean | undefined;
  /** occurred_at ≥ from */
  from?: Date | undefined;
  /** occurred_at < to */
  to?: Date | undefined;
}

/** Where a row sits in the log: its instant as PostgreSQL keeps it (microseconds, UTC) and its id. */
export interface RequestLogPosition {
  occurredAt: string;
  id: string;
}

export interface RequestLogRow {
  id: string;
  position: RequestLogPosition;
  requestId: string;
  occurredAt: Date;
  userId: string;
  userName: string | null;
  accessKeyId: string;
  keyPrefix: string | null;
  endpoint: 'messages' | 'count_tokens';
  provider: 'plan' | 'bedrock';
  isFallback: boolean;
  fallbackReason: string | null;
  fallbackUnavailable: string | null;
  requestedModel: string | null;
  servedModel: string | null;
  stream: boolean;
  statusCode: number;
  outcome: UsageOutcome;
  errorType: string | null;
  errorCode: string | null;
  stopReason: string | null;
  latencyMs: number;
  ttfbMs: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** 5-minute and 1-hour cache writes together. */
  cacheWriteTokens: number;
  /** Exact decimal; null when the model had no price. */
  costUsd: string | null;
}

export interface RequestLogRepository {
  /** Up to `limit` rows matching the filters, newest first, after `after` in that order (from the top without it). */
  page(query: { filters: RequestLogFilters; after?: RequestLogPosition | undefined; limit: number }): Promise<RequestLogRow[]>;
}

const STATUS_RANGES: Record<StatusClass, [number, number]> = { '2xx': [200, 300], '3xx': [300, 400], '4xx': [400, 500], '5xx': [500, 600] };

function conditions(f: RequestLogFilters): SQL[] {
  const where: SQL[] = [];
  if (f.userId) where.push(eq(usageEvents.userId, f.userId));
  if (f.accessKeyId) where.push(eq(usageEvents.accessKeyId, f.accessKeyId));
  if (f.provider) where.push(eq(usageEvents.provider, f.provider));
  if (f.model) where.push(or(eq(usageEvents.requestedModel, f.model), eq(usageEvents.servedModel, f.model))!);
  if (f.statusClass) {
    const [low, high] = STATUS_RANGES[f.statusClass];
    where.push(gte(usageEvents.statusCode, low), lt(usageEvents.statusCode, high));
  }
  if (f.outcome) where.push(eq(usageEvents.outcome, f.outcome));
  if (f.code) where.push(sql`${eventCode} = ${f.code}`);
  if (f.fallbackUnavailable) where.push(eq(usageEvents.fallbackUnavailable, f.fallbackUnavailable));
  if (f.fallback !== undefined) where.push(eq(usageEvents.isFallback, f.fallback));
  if (f.from) where.push(gte(usageEvents.occurredAt, f.from));
  if (f.to) where.push(lt(usageEvents.occurredAt, f.to));
  return where;
}

export function createRequestLogRepository(db: Db): RequestLogRepository {
  return {
    async page({ filters, after, limit }) {
      const where = conditions(filters);
      // A row comparison, so equal instants are ordered by id and no row is skipped or repeated.
      if (after) where.push(sql`(${usageEvents.occurredAt}, ${usageEvents.id}) < (${after.occurredAt}::timestamptz, ${after.id}::bigint)`);
      const rows = await db
        .select({
          id: sql<string>`${usageEvents.id}::text`,
          // Full precision (a JS Date keeps milliseconds only), for the position of the next page.
          at: sql<string>`to_char(${usageEvents.occurredAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
          requestId: usageEvents.requestId,
          occurredAt: usageEvents.occurredAt,
          userId: usageEvents.userId,
          userName: users.name,
          accessKeyId: usageEvents.accessKeyId,
          keyPrefix: accessKeys.keyPrefix,
          endpoint: usageEvents.endpoint,
          provider: usageEvents.provider,
          isFallback: usageEvents.isFallback,
          fallbackReason: usageEvents.fallbackReason,
          fallbackUnavailable: usageEvents.fallbackUnavailable,
          requestedModel: usageEvents.requestedModel,
          servedModel: usageEvents.servedModel,
          stream: usageEvents.stream,
          statusCode: usageEvents.statusCode,
          outcome: usageEvents.outcome,
          errorType: usageEvents.errorType,
          errorCode: usageEvents.errorCode,
          stopReason: usageEvents.stopReason,
          latencyMs: usageEvents.latencyMs,
          ttfbMs: usageEvents.ttfbMs,
          inputTokens: usageEvents.inputTokens,
          outputTokens: usageEvents.outputTokens,
          cacheReadTokens: usageEvents.cacheReadTokens,
          cacheWrite5mTokens: usageEvents.cacheWrite5mTokens,
          cacheWrite1hTokens: usageEvents.cacheWrite1hTokens,
          costUsd: usageEvents.costUsd,
        })
        .from(usageEvents)
        .leftJoin(users, eq(users.id, usageEvents.userId))
        .leftJoin(accessKeys, eq(accessKeys.id, usageEvents.accessKeyId))
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(usageEvents.occurredAt), desc(usageEvents.id))
        .limit(limit);
      return rows.map(({ at, cacheWrite5mTokens, cacheWrite1hTokens, costUsd, ...row }) => ({
        ...row,
        position: { occurredAt: at, id: row.id },
        cacheWriteTokens: cacheWrite5mTokens + cacheWrite1hTokens,
        costUsd: costUsd === null ? null : normalizeUsd(costUsd),
      }));
    },
  };
}
