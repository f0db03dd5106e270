import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { formatZoned } from '../accounting/calendar.ts';
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
import { BreakdownQuery, CostBreakdown, FallbackQuery, Fallbacks, TopUsers, TopUsersQuery, UsageQuery, UsageReport, UsageTotalsJson } from './schemas.ts';

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

export async function usageRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { reports, timeZone } = deps.accounting;

  const range = (q: RangeParams): ReportRange => reportRange(q, timeZone);
  const period = (r: ReportRange) => periodJson(r, timeZone);

  app.get(
    '/usage',
    { schema: { summary: 'Usage and cost totals and buckets for a period in TIMEZONE (buckets with no traffic included)', querystring: UsageQuery, response: { 200: UsageReport } } },
    async (request) => {
      const q = request.query;
      const r = range(q);
      const { bucket, starts } = reportBuckets(q, r, timeZone);
      const filters: UsageFilters = { userId: q.user_id, accessKeyId: q.access_key_id, provider: q.provider, model: q.model };
      const rows = await reports.byBucket({ granularity: sourceGranularity(r, bucket, timeZone), start: r.start, end: r.end, filters });
      const buckets = fillBuckets(starts, rows);
      const totals = buckets.reduce((sum, b) => addTotals(sum, b.totals), emptyTotals());
      return {
        period: period(r),
        bucket,
        totals: totalsJson(totals),
        buckets: buckets.map((b) => ({ start: formatZoned(b.start, timeZone), ...totalsJson(b.totals) })),
      };
    },
  );

  app.get(
    '/usage/top-users',
    { schema: { summary: 'Users with the most tokens or the highest cost in a period', querystring: TopUsersQuery, response: { 200: TopUsers } } },
    async (request) => {
      const q = request.query;
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
    },
  );

  app.get(
    '/usage/fallbacks',
    { schema: { summary: 'How many requests in a period fell back to Bedrock, and why', querystring: FallbackQuery, response: { 200: Fallbacks } } },
    async (request) => {
      const q = request.query;
      const r = range(q);
      const { requests, fallbacks } = await reports.fallbacks({ start: r.start, end: r.end, userId: q.user_id });
      const fallbackRequests = fallbacks.reduce((n, f) => n + f.requests, 0);
      return {
        period: period(r),
        requests,
        fallback_requests: fallbackRequests,
        fallback_rate: requests > 0 ? fallbackRequests / requests : null,
        reasons: fallbacks,
      };
    },
  );

  app.get(
    '/usage/cost-breakdown',
    { schema: { summary: 'Cost and usage per provider and model in a period, costliest first', querystring: BreakdownQuery, response: { 200: CostBreakdown } } },
    async (request) => {
      const q = request.query;
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
    },
  );
}
