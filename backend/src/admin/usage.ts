import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { addUnits, formatZoned } from '../accounting/calendar.ts';
import { formatUsd, toPico } from '../accounting/money.ts';
import {
  addTotals,
  emptyTotals,
  fillBuckets,
  sourceGranularity,
  totalCostUsd,
  type ReportRange,
  type UsageTotals,
} from '../accounting/reports.ts';
import type { UsageFilters } from '../db/usage-report-repository.ts';
import type { AdminDeps } from './plugin.ts';
import { periodJson, reportBuckets, reportRange, type RangeParams } from './report-range.ts';
import { sendCsv } from './csv.ts';
import {
  BreakdownQuery,
  CostBreakdown,
  CsvFile,
  ErrorReport,
  ErrorReportQuery,
  FallbackQuery,
  Fallbacks,
  TopUsers,
  TopUsersQuery,
  UsageQuery,
  UsageReport,
  UsageTotalsJson,
} from './schemas.ts';

// Usage reports over the rollups (accounting/reports.ts): every period in TIMEZONE, money as exact
// decimal strings, Plan traffic priced at Anthropic API rates (what the subscription saved).

export function totalsJson(t: UsageTotals): Static<typeof UsageTotalsJson> {
  return {
    requests: t.requests,
    unpriced_requests: t.unpricedRequests,
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cache_read_tokens: t.cacheReadTokens,
    cache_write_tokens: t.cacheWrite5mTokens + t.cacheWrite1hTokens,
    cache_write_5m_tokens: t.cacheWrite5mTokens,
    cache_write_1h_tokens: t.cacheWrite1hTokens,
    cost_usd: totalCostUsd(t),
    input_cost_usd: t.inputCostUsd,
    output_cost_usd: t.outputCostUsd,
    cache_read_cost_usd: t.cacheReadCostUsd,
    cache_write_cost_usd: formatUsd(toPico(t.cacheWrite5mCostUsd) + toPico(t.cacheWrite1hCostUsd)),
    cache_write_5m_cost_usd: t.cacheWrite5mCostUsd,
    cache_write_1h_cost_usd: t.cacheWrite1hCostUsd,
  };
}

/** "usage-2026-11-01_2026-11-30.csv": the report's first and last day (one day: that day). */
function csvName(report: string, p: { start: string; end: string }): string {
  const first = p.start.slice(0, 10);
  // The last day is the one before the exclusive end's date (both are midnights in TIMEZONE).
  const end = new Date(`${p.end.slice(0, 10)}T00:00:00Z`);
  const last = new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);
  return `${report}-${first === last ? first : `${first}_${last}`}.csv`;
}

/**
 * Every bucket of the period in order (starts ascending), each count added to the bucket it falls
 * in (the last start at or before it; `rows` ascending too), zeros elsewhere.
 */
function countsPerBucket(starts: readonly Date[], rows: readonly { bucketStart: Date; requests: number; errors: number }[]): { start: Date; requests: number; errors: number }[] {
  const buckets = starts.map((start) => ({ start, requests: 0, errors: 0 }));
  let i = 0;
  for (const row of rows) {
    while (i + 1 < buckets.length && buckets[i + 1]!.start.getTime() <= row.bucketStart.getTime()) i++;
    buckets[i]!.requests += row.requests;
    buckets[i]!.errors += row.errors;
  }
  return buckets;
}

/** Tokens, requests and cost per bucket over a range (the admin's report and a developer's own, me.ts). */
export async function usageReport(deps: AdminDeps, q: Static<typeof UsageQuery>): Promise<Static<typeof UsageReport>> {
  const { reports, timeZone } = deps.accounting;
  const r = reportRange(q, timeZone);
  const { bucket, starts } = reportBuckets(q, r, timeZone);
  const filters: UsageFilters = { userId: q.user_id, accessKeyId: q.access_key_id, provider: q.provider, model: q.model };
  const rows = await reports.byBucket({ granularity: sourceGranularity(r, bucket, timeZone), start: r.start, end: r.end, filters });
  const buckets = fillBuckets(starts, rows);
  const totals = buckets.reduce((sum, b) => addTotals(sum, b.totals), emptyTotals());
  return {
    period: periodJson(r, timeZone),
    bucket,
    totals: totalsJson(totals),
    buckets: buckets.map((b) => ({ start: formatZoned(b.start, timeZone), ...totalsJson(b.totals) })),
  };
}

export async function usageRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { reports, timeZone } = deps.accounting;

  const range = (q: RangeParams): ReportRange => reportRange(q, timeZone);
  const period = (r: ReportRange) => periodJson(r, timeZone);



  async function topUsersReport(q: Static<typeof TopUsersQuery>): Promise<Static<typeof TopUsers>> {
    const r = range(q);
    const by = q.by ?? 'tokens';
    const rows = await reports.topUsers({
      granularity: sourceGranularity(r, 'total', timeZone),
      start: r.start,
      end: r.end,
      filters: { provider: q.provider, model: q.model },
      by,
      limit: q.limit ?? 10,
    });
    return {
      period: period(r),
      by,
      items: rows.map((row) => {
        const t = row.totals;
        const totalTokens = t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheWrite5mTokens + t.cacheWrite1hTokens;
        return { user_id: row.userId, name: row.name, total_tokens: totalTokens, ...totalsJson(t) };
      }),
    };
  }

  async function costBreakdownReport(q: Static<typeof BreakdownQuery>): Promise<Static<typeof CostBreakdown>> {
    const r = range(q);
    const rows = await reports.byModel({
      granularity: sourceGranularity(r, 'total', timeZone),
      start: r.start,
      end: r.end,
      filters: { userId: q.user_id, accessKeyId: q.access_key_id, provider: q.provider },
    });
    const totals = rows.reduce((sum, row) => addTotals(sum, row.totals), emptyTotals());
    return {
      period: period(r),
      totals: totalsJson(totals),
      items: rows.map((row) => ({ provider: row.provider, model: row.model, ...totalsJson(row.totals) })),
    };
  }

  app.get(
    '/usage',
    { schema: { summary: 'Usage and cost totals and buckets for a period in TIMEZONE (buckets with no traffic included)', querystring: UsageQuery, response: { 200: UsageReport } } },
    async (request) => usageReport(deps, request.query),
  );

  app.get(
    '/usage/top-users',
    { schema: { summary: 'Users with the most tokens or the highest cost in a period', querystring: TopUsersQuery, response: { 200: TopUsers } } },
    async (request) => topUsersReport(request.query),
  );

  // CSV twins of the tables above: the same query, the same rows (one line per bucket or item).
  app.get(
    '/usage.csv',
    { schema: { summary: 'The buckets of /admin/usage as CSV', querystring: UsageQuery, response: { 200: CsvFile } } },
    async (request, reply) => {
      const report = await usageReport(deps, request.query);
      return sendCsv(reply, { filename: csvName('usage', report.period), columns: Object.keys(UsageReport.properties.buckets.items.properties), rows: report.buckets });
    },
  );

  app.get(
    '/usage/top-users.csv',
    { schema: { summary: 'The items of /admin/usage/top-users as CSV', querystring: TopUsersQuery, response: { 200: CsvFile } } },
    async (request, reply) => {
      const report = await topUsersReport(request.query);
      return sendCsv(reply, { filename: csvName('top-users', report.period), columns: Object.keys(TopUsers.properties.items.items.properties), rows: report.items });
    },
  );

  app.get(
    '/usage/cost-breakdown.csv',
    { schema: { summary: 'The items of /admin/usage/cost-breakdown as CSV', querystring: BreakdownQuery, response: { 200: CsvFile } } },
    async (request, reply) => {
      const report = await costBreakdownReport(request.query);
      return sendCsv(reply, { filename: csvName('cost-breakdown', report.period), columns: Object.keys(CostBreakdown.properties.items.items.properties), rows: report.items });
    },
  );

  app.get(
    '/usage/errors',
    {
      schema: {
        summary: 'Requests that ended in an error in a period, per code and per hour (a day) or day (longer), in TIMEZONE',
        querystring: ErrorReportQuery,
        response: { 200: ErrorReport },
      },
    },
    async (request) => {
      const q = request.query;
      const r = range(q);
      // Hours for one day (the current one or a range of one), days for anything longer.
      const oneDay = addUnits(r.start, 'day', 1, timeZone).getTime() === r.end.getTime();
      const { bucket, starts } = reportBuckets({ ...q, bucket: oneDay ? 'hour' : 'day' }, r, timeZone);
      const counts = await reports.errors({ start: r.start, end: r.end, userId: q.user_id, provider: q.provider, bucket, timeZone });
      return {
        period: period(r),
        bucket,
        requests: counts.requests,
        errors: counts.errors,
        aborted: counts.aborted,
        error_rate: counts.requests > 0 ? counts.errors / counts.requests : null,
        by_code: counts.byCode.map((c) => ({ code: c.code, status_code: c.statusCode, requests: c.requests })),
        buckets: countsPerBucket(starts, counts.buckets).map((b) => ({ start: formatZoned(b.start, timeZone), requests: b.requests, errors: b.errors })),
      };
    },
  );

  app.get(
    '/usage/fallbacks',
    { schema: { summary: 'How many requests in a period Bedrock served after Anthropic failed, and why; fallbacks that failed or were impossible', querystring: FallbackQuery, response: { 200: Fallbacks } } },
    async (request) => {
      const q = request.query;
      const r = range(q);
      const { requests, served, failed, unavailable } = await reports.fallbacks({ start: r.start, end: r.end, userId: q.user_id });
      const fallbackRequests = served.reduce((n, f) => n + f.requests, 0);
      return {
        period: period(r),
        requests,
        fallback_requests: fallbackRequests,
        fallback_rate: requests > 0 ? fallbackRequests / requests : null,
        reasons: served,
        failed_fallbacks: failed,
        fallback_unavailable: unavailable,
      };
    },
  );

  app.get(
    '/usage/cost-breakdown',
    { schema: { summary: 'Cost and usage per provider and model in a period, costliest first', querystring: BreakdownQuery, response: { 200: CostBreakdown } } },
    async (request) => costBreakdownReport(request.query),
  );
}
