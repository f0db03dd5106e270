import { useId } from 'react';
import { api } from '../lib/api.ts';
import { formatInteger, formatUsd } from '../lib/format.ts';
import { formatUtilization } from '../lib/plan-window.ts';
import { useAsync } from '../lib/use-async.ts';
import { Alert } from './Alert.tsx';
import { StatCard } from './StatCard.tsx';

/**
 * The Plan row of the Overview (README, "Plan window"): capacity used now, and for the period what
 * the Plan traffic was worth at API prices and what switching early or late cost.
 */
export function PlanCards({ query, userId, refresh }: { query: Record<string, string>; userId?: string; refresh: number }) {
  const headingId = useId();
  const plan = useAsync(() => api.planReport({ ...query, user_id: userId }), [JSON.stringify(query), userId, refresh]);
  const r = plan.data;
  const capacity = r?.capacity;

  return (
    <section aria-labelledby={headingId} className="space-y-2">
      <h2 id={headingId} className="text-base font-semibold">
        Plan
      </h2>
      {plan.error && <Alert>{plan.error}</Alert>}
      {!r && !plan.error && <p className="text-slate-500 dark:text-slate-400">Loading the Plan report…</p>}
      {r && capacity && (
        <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5">
          <StatCard
            testId="card-plan-capacity"
            label="Plan capacity used now (5h / 7d)"
            value={capacity.keys === 0 ? '—' : `${formatUtilization(capacity.mean_5h_utilization)} / ${formatUtilization(capacity.mean_7d_utilization)}`}
            detail={
              capacity.keys === 0
                ? 'No Plan reading yet'
                : `Mean of ${formatInteger(capacity.keys)} key${capacity.keys === 1 ? '' : 's'} · ${formatInteger(capacity.parked_keys)} parked on Bedrock now`
            }
          />
          <StatCard testId="card-plan-api-cost" label="Plan traffic at API prices" value={formatUsd(r.plan_cost_at_api_prices_usd)} detail="What the Plan served, priced per token" />
          <StatCard
            testId="card-plan-early"
            label="Bedrock spend from switching early"
            value={formatUsd(r.spend_caused_early_usd)}
            detail="Requests the threshold moved before Anthropic's limit"
          />
          <StatCard
            testId="card-plan-late"
            label="Bedrock spend avoided by switching late"
            value={formatUsd(r.spend_avoided_late_usd)}
            detail="Plan traffic after Anthropic's warning, at API prices"
          />
          <StatCard
            testId="card-plan-switches"
            label="Session switches"
            value={formatInteger(r.session_switches)}
            detail={`Their cache writes cost ${formatUsd(r.switch_cache_write_cost_usd)}`}
          />
        </div>
      )}
    </section>
  );
}
