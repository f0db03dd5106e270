import { useState, type ReactNode } from 'react';
import { api } from '../lib/api.ts';
import { formatInteger, formatPercent, formatTokens, formatUsd, totalTokens } from '../lib/format.ts';
import { bucketFor, describePeriod, periodQuery, type PeriodChoice } from '../lib/period.ts';
import type { CostBreakdown, FallbackReport, Provider, UsageReport } from '../lib/types.ts';
import { providerShare } from '../lib/usage-summary.ts';
import { useAsync } from '../lib/use-async.ts';
import { Alert } from './Alert.tsx';
import { CostByModelChart, CostChart, TokensChart } from './charts.tsx';
import { Panel } from './Panel.tsx';
import { PeriodPicker } from './PeriodPicker.tsx';
import { StatCard } from './StatCard.tsx';

interface Loaded {
  report: UsageReport;
  breakdown: CostBreakdown;
  fallbacks: FallbackReport;
}

/**
 * Cards and charts of usage for a period, for everyone or one user. `children` receives the
 * period query so a page can add panels of its own for the same period (top users).
 */
export function UsageSection({
  userId,
  provider,
  initial = { kind: 'week' },
  controls,
  afterCards,
  children,
}: {
  userId?: string;
  /** Only Plan or only Bedrock traffic (the fallback rate counts all of it either way). */
  provider?: Provider;
  initial?: PeriodChoice;
  controls?: ReactNode;
  /** More cards for the same period, right under the usage cards (the Overview's Plan row). */
  afterCards?: (query: Record<string, string>, refresh: number) => ReactNode;
  /** `refresh` changes when the admin asks for fresh numbers. */
  children?: (query: Record<string, string>, refresh: number) => ReactNode;
}) {
  const [choice, setChoice] = useState<PeriodChoice>(initial);
  const [timeZone, setTimeZone] = useState('UTC');
  const [refresh, setRefresh] = useState(0);
  const query = periodQuery(choice);
  const key = JSON.stringify([query, userId, provider]);
  const state = useAsync<Loaded | null>(async () => {
    if (!query) return null;
    const filter = { ...query, user_id: userId };
    const [report, breakdown, fallbacks] = await Promise.all([
      api.usage({ ...filter, provider, bucket: bucketFor(choice) }),
      api.costBreakdown({ ...filter, provider }),
      api.fallbacks(filter),
    ]);
    setTimeZone(report.period.timezone);
    return { report, breakdown, fallbacks };
  }, [key, refresh]);
  const data = state.data ?? undefined;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-4">
        <PeriodPicker value={choice} onChange={setChoice} timeZone={timeZone} />
        {controls}
        <button type="button" className="btn-secondary" onClick={() => setRefresh((n) => n + 1)} disabled={state.loading}>
          Refresh
        </button>
        {data && (
          <p className="text-sm text-slate-600" data-testid="period-description">
            {describePeriod(data.report.period)} · by {data.report.bucket}
            {state.loading && ' · updating…'}
          </p>
        )}
      </div>
      {state.error && <Alert>{state.error}</Alert>}
      {!data && !state.error && query && <p className="text-slate-500">Loading usage…</p>}
      {data && <Cards {...data} />}
      {query && afterCards?.(query, refresh)}
      {data && (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
          <Panel title="Tokens over time" testId="chart-tokens">
            <TokensChart report={data.report} />
          </Panel>
          <Panel title="Cost over time" testId="chart-cost">
            <CostChart report={data.report} />
          </Panel>
          <div className="lg:col-span-2">
            <Panel title="Cost by model" testId="chart-cost-by-model">
              <CostByModelChart breakdown={data.breakdown} />
            </Panel>
          </div>
        </div>
      )}
      {query && children?.(query, refresh)}
    </div>
  );
}

function Cards({ report, breakdown, fallbacks }: Loaded) {
  const t = report.totals;
  const share = providerShare(breakdown);
  return (
    <div className="space-y-3">
      <div className="grid grid-cols-2 gap-3 xl:grid-cols-4">
        <StatCard testId="card-requests" label="Requests" value={formatInteger(t.requests)} detail={t.unpriced_requests ? `${t.unpriced_requests} without a price` : undefined} />
        <StatCard testId="card-cost" label="Cost" value={formatUsd(t.cost_usd)} detail="Plan traffic at Anthropic API rates" />
        <StatCard
          testId="card-provider-share"
          label="Plan / Bedrock"
          value={share.bedrockShare === null ? '—' : `${formatPercent(1 - share.bedrockShare)} / ${formatPercent(share.bedrockShare)}`}
          detail={`${formatInteger(share.planRequests)} Plan, ${formatInteger(share.bedrockRequests)} Bedrock requests · Bedrock cost ${formatUsd(share.bedrockCostUsd)}`}
        />
        <StatCard
          testId="card-fallback-rate"
          label="Fallback rate"
          value={formatPercent(fallbacks.fallback_rate)}
          detail={
            fallbacks.fallback_requests === 0
              ? 'No request fell back to Bedrock'
              : `${formatInteger(fallbacks.fallback_requests)} of ${formatInteger(fallbacks.requests)} requests: ${fallbacks.reasons
                  .slice(0, 3)
                  .map((r) => `${r.reason ?? 'unknown'} ${r.requests}`)
                  .join(', ')}`
          }
        />
      </div>
      <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5">
        <StatCard testId="card-tokens" label="Tokens (all kinds)" value={formatTokens(totalTokens(t))} detail={`${formatInteger(totalTokens(t))} tokens`} />
        <StatCard testId="card-input-tokens" label="Input tokens" value={formatTokens(t.input_tokens)} detail={formatUsd(t.input_cost_usd)} />
        <StatCard testId="card-output-tokens" label="Output tokens" value={formatTokens(t.output_tokens)} detail={formatUsd(t.output_cost_usd)} />
        <StatCard testId="card-cache-read-tokens" label="Cache read tokens" value={formatTokens(t.cache_read_tokens)} detail={formatUsd(t.cache_read_cost_usd)} />
        <StatCard testId="card-cache-write-tokens" label="Cache write tokens" value={formatTokens(t.cache_write_tokens)} detail={formatUsd(t.cache_write_cost_usd)} />
      </div>
    </div>
  );
}
