import { useState } from 'react';
import { api } from '../lib/api.ts';
import { formatInteger, formatTokens, formatUsd, totalTokens } from '../lib/format.ts';
import { bucketFor, describePeriod, periodQuery, type PeriodChoice } from '../lib/period.ts';
import { useAsync } from '../lib/use-async.ts';
import { Alert } from './Alert.tsx';
import { CostChart, TokensChart } from './charts.tsx';
import { Panel } from './Panel.tsx';
import { PeriodPicker } from './PeriodPicker.tsx';
import { CardsSkeleton } from './Skeleton.tsx';
import { StatCard } from './StatCard.tsx';

/**
 * One's own usage and cost for a period (GET /admin/me/usage): the usage report's cards and charts.
 * UsageSection also draws the cost breakdown, fallbacks and errors, which have no /admin/me route.
 */
export function MyUsageSection() {
  const [choice, setChoice] = useState<PeriodChoice>({ kind: 'month' });
  const [timeZone, setTimeZone] = useState('UTC');
  const query = periodQuery(choice);
  const state = useAsync(async () => {
    if (!query) return null;
    const report = await api.myUsage({ ...query, bucket: bucketFor(choice) });
    setTimeZone(report.period.timezone);
    return report;
  }, [JSON.stringify(query)]);
  const report = state.data ?? undefined;
  const t = report?.totals;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-4">
        <PeriodPicker value={choice} onChange={setChoice} timeZone={timeZone} />
        <button type="button" className="btn-secondary" onClick={state.reload} disabled={state.loading}>
          Refresh<span className="sr-only"> usage</span>
        </button>
        {report && (
          <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="period-description">
            {describePeriod(report.period)} · by {report.bucket}
            {state.loading && ' · updating…'}
          </p>
        )}
      </div>
      {state.error && <Alert>{state.error}</Alert>}
      {!report && !state.error && query && <CardsSkeleton />}
      {report && t && (
        <>
          <div className="grid grid-cols-2 gap-3 xl:grid-cols-4">
            <StatCard testId="card-requests" label="Requests" value={formatInteger(t.requests)} detail={t.unpriced_requests ? `${t.unpriced_requests} without a price` : undefined} />
            <StatCard testId="card-cost" label="Cost" value={formatUsd(t.cost_usd)} detail="Plan traffic at Anthropic API rates" />
            <StatCard testId="card-tokens" label="Tokens (all kinds)" value={formatTokens(totalTokens(t))} detail={`${formatInteger(totalTokens(t))} tokens`} />
            <StatCard testId="card-output-tokens" label="Output tokens" value={formatTokens(t.output_tokens)} detail={formatUsd(t.output_cost_usd)} />
          </div>
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            <Panel title="Tokens over time" testId="chart-tokens">
              <TokensChart report={report} />
            </Panel>
            <Panel title="Cost over time" testId="chart-cost">
              <CostChart report={report} />
            </Panel>
          </div>
        </>
      )}
    </div>
  );
}
