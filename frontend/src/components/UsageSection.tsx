import { useState, type ReactNode } from 'react';
import { api } from '../lib/api.ts';
import { formatInteger, formatPercent, formatTokens, formatUsd, totalTokens } from '../lib/format.ts';
import { FALLBACK_UNAVAILABLE_LABELS, reasonLabel } from '../lib/labels.ts';
import { bucketFor, describePeriod, periodQuery, type PeriodChoice } from '../lib/period.ts';
import { csvHref, requestLogPath, type RequestFilters } from '../lib/request-log.ts';
import { Link } from '../lib/router.tsx';
import type { CostBreakdown, ErrorReport, FallbackReport, Provider, UsageReport } from '../lib/types.ts';
import { providerShare } from '../lib/usage-summary.ts';
import { useAsync } from '../lib/use-async.ts';
import { Alert } from './Alert.tsx';
import { CostByModelChart, CostChart, ErrorsChart, TokensChart } from './charts.tsx';
import { CsvLink } from './CsvLink.tsx';
import { EmptyState } from './EmptyState.tsx';
import { Panel } from './Panel.tsx';
import { PeriodPicker } from './PeriodPicker.tsx';
import { CardsSkeleton } from './Skeleton.tsx';
import { StatCard } from './StatCard.tsx';

interface Loaded {
  report: UsageReport;
  breakdown: CostBreakdown;
  fallbacks: FallbackReport;
  errors: ErrorReport;
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
    const [report, breakdown, fallbacks, errors] = await Promise.all([
      api.usage({ ...filter, provider, bucket: bucketFor(choice) }),
      api.costBreakdown({ ...filter, provider }),
      api.fallbacks(filter),
      api.errors({ ...filter, provider }),
    ]);
    setTimeZone(report.period.timezone);
    return { report, breakdown, fallbacks, errors };
  }, [key, refresh]);
  const data = state.data ?? undefined;
  // The CSV twins take the very query the panels were drawn from.
  const usageCsv = query ? csvHref('/usage.csv', { ...query, user_id: userId, provider, bucket: bucketFor(choice) }) : '';
  const breakdownCsv = query ? csvHref('/usage/cost-breakdown.csv', { ...query, user_id: userId, provider }) : '';

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-4">
        <PeriodPicker value={choice} onChange={setChoice} timeZone={timeZone} />
        {controls}
        <button type="button" className="btn-secondary" onClick={() => setRefresh((n) => n + 1)} disabled={state.loading}>
          Refresh
        </button>
        {data && (
          <p className="text-sm text-slate-600 dark:text-slate-300" data-testid="period-description">
            {describePeriod(data.report.period)} · by {data.report.bucket}
            {state.loading && ' · updating…'}
          </p>
        )}
      </div>
      {state.error && <Alert>{state.error}</Alert>}
      {!data && !state.error && query && <CardsSkeleton />}
      {data && <Cards {...data} />}
      {query && afterCards?.(query, refresh)}
      {data && (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
          <Panel title="Tokens over time" testId="chart-tokens" actions={<CsvLink href={usageCsv} what="tokens and cost over time" />}>
            <TokensChart report={data.report} />
          </Panel>
          <Panel title="Cost over time" testId="chart-cost">
            <CostChart report={data.report} />
          </Panel>
          <div className="lg:col-span-2">
            <Panel title="Cost by model" testId="chart-cost-by-model" actions={<CsvLink href={breakdownCsv} what="cost by model" />}>
              <CostByModelChart breakdown={data.breakdown} />
            </Panel>
          </div>
          <div className="lg:col-span-2">
            <ErrorsPanel errors={data.errors} userId={userId} provider={provider} />
          </div>
        </div>
      )}
      {query && children?.(query, refresh)}
    </div>
  );
}

function Cards({ report, breakdown, fallbacks, errors }: Loaded) {
  const t = report.totals;
  const share = providerShare(breakdown);
  const failed = fallbacks.failed_fallbacks;
  const impossible = fallbacks.fallback_unavailable.reduce((n, r) => n + r.requests, 0);
  return (
    <div className="space-y-3">
      <div className="grid grid-cols-2 gap-3 xl:grid-cols-4">
        <StatCard testId="card-requests" label="Requests" value={formatInteger(t.requests)} detail={t.unpriced_requests ? `${t.unpriced_requests} without a price` : undefined} />
        <StatCard
          testId="card-errors"
          label="Errors"
          value={formatInteger(errors.errors)}
          detail={`${formatInteger(errors.errors)} error${errors.errors === 1 ? '' : 's'} of ${formatInteger(errors.requests)} requests${errors.aborted ? ` · ${formatInteger(errors.aborted)} aborted by the client` : ''}`}
          tone={errors.errors > 0 ? 'bad' : undefined}
        />
        <StatCard testId="card-error-rate" label="Error rate" value={formatPercent(errors.error_rate)} detail="Errors from Anthropic or Bedrock and the proxy's refusals (aborted requests not counted)" tone={errors.errors > 0 ? 'bad' : undefined} />
        <StatCard testId="card-cost" label="Cost" value={formatUsd(t.cost_usd)} detail="Plan traffic at Anthropic API rates" />
      </div>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
        <StatCard
          testId="card-provider-share"
          label="Plan / Bedrock"
          value={share.bedrockShare === null ? '—' : `${formatPercent(1 - share.bedrockShare)} / ${formatPercent(share.bedrockShare)}`}
          detail={`${formatInteger(share.planRequests)} Plan, ${formatInteger(share.bedrockRequests)} Bedrock requests · Bedrock cost ${formatUsd(share.bedrockCostUsd)}`}
        />
        <StatCard
          testId="card-fallback-rate"
          label="Fallback rate (served)"
          value={formatPercent(fallbacks.fallback_rate)}
          detail={
            fallbacks.fallback_requests === 0
              ? 'No request was served by a fallback to Bedrock'
              : `${formatInteger(fallbacks.fallback_requests)} of ${formatInteger(fallbacks.requests)} requests: ${fallbacks.reasons
                  .slice(0, 3)
                  .map((r) => `${reasonLabel(r.reason)} ${r.requests}`)
                  .join(', ')}`
          }
        />
        <StatCard
          testId="card-fallback-problems"
          label="Fallbacks failed / impossible"
          value={`${formatInteger(failed)} / ${formatInteger(impossible)}`}
          tone={failed + impossible > 0 ? 'bad' : undefined}
          detail={
            impossible === 0
              ? `${formatInteger(failed)} failed on Bedrock; none wanted but impossible`
              : `${formatInteger(failed)} failed on Bedrock; impossible: ${fallbacks.fallback_unavailable
                  .map((r) => `${FALLBACK_UNAVAILABLE_LABELS[r.reason] ?? r.reason} ${r.requests}`)
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

/** Failed requests of the period (as /admin/usage/errors counts them): over time and by code, each code linking to its requests in the log. */
function ErrorsPanel({ errors, userId, provider }: { errors: ErrorReport; userId?: string; provider?: Provider }) {
  const base: RequestFilters = { user_id: userId, provider, from: errors.period.start, to: errors.period.end };
  return (
    <Panel title="Errors" testId="errors" actions={<Link to={requestLogPath(base)} className="btn-secondary">Request log<span className="sr-only"> for this period</span></Link>}>
      {errors.errors === 0 ? (
        <EmptyState title="No errors in this period">{errors.requests === 0 ? 'No requests either.' : `All ${formatInteger(errors.requests)} requests succeeded.`}</EmptyState>
      ) : (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
          <div className="min-w-0 lg:col-span-2">
            <ErrorsChart report={errors} />
          </div>
          <div className="overflow-x-auto">
            <table className="table-basic" aria-label="Errors by code">
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col" className="text-right">Status</th>
                  <th scope="col" className="text-right">Requests</th>
                </tr>
              </thead>
              <tbody>
                {errors.by_code.map((c) => (
                  <tr key={`${c.status_code}/${c.code ?? ''}`}>
                    <td className="font-mono text-xs">
                      <Link
                        to={requestLogPath({ ...base, code: c.code })}
                        className="text-indigo-700 dark:text-indigo-300 hover:underline"
                      >
                        {c.code}
                      </Link>
                    </td>
                    <td className="text-right tabular-nums">{c.status_code}</td>
                    <td className="text-right tabular-nums">{formatInteger(c.requests)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </Panel>
  );
}
