import { api } from '../lib/api.ts';
import { formatInteger, formatUsd } from '../lib/format.ts';
import { reasonLabel } from '../lib/labels.ts';
import { useAsync } from '../lib/use-async.ts';
import { Alert } from './Alert.tsx';
import { PlanUtilizationChart } from './charts.tsx';
import { EmptyState } from './EmptyState.tsx';
import { Panel } from './Panel.tsx';
import { Figure } from './Figure.tsx';

/** One user's Plan window over a period: utilization and Bedrock requests per bucket, Bedrock time and spend by reason, and what switching cost. */
export function PlanReportPanel({ query, userId, refresh }: { query: Record<string, string>; userId: string; refresh: number }) {
  const plan = useAsync(() => api.planReport({ ...query, user_id: userId }), [JSON.stringify(query), userId, refresh]);
  const r = plan.data;

  return (
    <Panel title="Plan window over the period" testId="plan-report">
      {plan.error && <Alert>{plan.error}</Alert>}
      {!r && !plan.error && <p className="text-slate-500 dark:text-slate-400">Loading the Plan report…</p>}
      {r && (
        <div className="space-y-4">
          <PlanUtilizationChart report={r} />
          <dl className="grid grid-cols-2 gap-3 text-sm md:grid-cols-3 xl:grid-cols-6">
            <Figure label="Plan traffic at API prices" value={formatUsd(r.plan_cost_at_api_prices_usd)} />
            <Figure label="Bedrock spend" value={formatUsd(r.bedrock.cost_usd)} />
            <Figure label="Spend from switching early" value={formatUsd(r.spend_caused_early_usd)} />
            <Figure label="Spend avoided by switching late" value={formatUsd(r.spend_avoided_late_usd)} />
            <Figure label="Session switches" value={formatInteger(r.session_switches)} />
            <Figure label="Switch cost (cache writes)" value={formatUsd(r.switch_cache_write_cost_usd)} />
          </dl>
          {r.bedrock.by_reason.length === 0 ? (
            <EmptyState title="No time on Bedrock in this period">Every request of this user was served by the Plan.</EmptyState>
          ) : (
            <div className="overflow-x-auto">
              <table className="table-basic">
                <caption className="sr-only">Bedrock time and spend by reason</caption>
                <thead>
                  <tr>
                    <th scope="col">Why Bedrock</th>
                    <th scope="col" className="text-right">Requests</th>
                    <th scope="col" className="text-right">Time on Bedrock</th>
                    <th scope="col" className="text-right">Spend</th>
                  </tr>
                </thead>
                <tbody>
                  {r.bedrock.by_reason.map((b) => (
                    <tr key={b.reason ?? 'none'}>
                      <td>{reasonLabel(b.reason)}</td>
                      <td className="text-right tabular-nums">{formatInteger(b.requests)}</td>
                      <td className="text-right tabular-nums">{formatInteger(b.minutes)} min</td>
                      <td className="text-right tabular-nums">{formatUsd(b.cost_usd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">Time counts the 5-minute slots in which Bedrock served this user for that reason.</p>
            </div>
          )}
        </div>
      )}
    </Panel>
  );
}
