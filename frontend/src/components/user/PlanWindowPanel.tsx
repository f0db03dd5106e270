import { useId } from 'react';
import { api } from '../../lib/api.ts';
import { formatDateTime, formatPercent } from '../../lib/format.ts';
import { breakerLabel, breakerStyle } from '../../lib/labels.ts';
import { familiesLabel, formatThreshold, formatUtilization, routeLabel, routesNow, shownWindows, type Route, type WindowReading } from '../../lib/plan-window.ts';
import type { PlanWindow, PlanWindowList, User } from '../../lib/types.ts';
import { useAsync } from '../../lib/use-async.ts';
import { Alert } from '../Alert.tsx';
import { EmptyState } from '../EmptyState.tsx';
import { Panel } from '../Panel.tsx';
import { PlanSettingsPanel } from './PlanSettingsPanel.tsx';

const STATUS_STYLES: Record<NonNullable<PlanWindow['status']>, string> = {
  allowed: 'bg-emerald-100 dark:bg-emerald-900 text-emerald-800 dark:text-emerald-200',
  allowed_warning: 'bg-amber-100 dark:bg-amber-900 text-amber-900 dark:text-amber-200',
  rejected: 'bg-red-100 dark:bg-red-900 text-red-800 dark:text-red-200',
};

/** Orange on Bedrock, green on the Plan; amber where a fallback cannot happen (no Bedrock key), as the breaker's label. */
const ROUTE_STYLES: Record<Route['provider'] | 'no_bedrock_key', string> = {
  bedrock: 'font-medium text-orange-800 dark:text-orange-300',
  plan: 'font-medium text-emerald-700 dark:text-emerald-400',
  none: 'font-medium text-red-700 dark:text-red-400',
  no_bedrock_key: 'font-medium text-amber-800 dark:text-amber-200',
};

/**
 * Where each of the user's keys stands on their Claude plan now, and the rule that moves them to
 * Bedrock. `load`: where the windows come from (default the admin route for `user`); the developer
 * page reads its own and shows no settings panel (the settings are an admin's).
 */
export function PlanWindowPanel({ user, load }: { user: User; load?: () => Promise<PlanWindowList> }) {
  const headingId = useId();
  const windows = useAsync(() => (load ? load() : api.planWindows(user.id)), [user.id, load]);
  const data = windows.data;

  return (
    <section aria-labelledby={headingId} className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={headingId} className="text-lg font-semibold">
          Plan window
        </h2>
        <button type="button" className="btn-secondary" onClick={windows.reload} disabled={windows.loading}>
          Refresh<span className="sr-only"> Plan window</span>
        </button>
      </div>
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
        <div className={load ? 'min-w-0 lg:col-span-3' : 'min-w-0 lg:col-span-2'}>
          <Panel title="Now, per access key" testId="plan-windows">
            {windows.error && <Alert>{windows.error}</Alert>}
            {!data && !windows.error && <p className="text-slate-500 dark:text-slate-400">Loading the Plan window…</p>}
            {data && data.items.length === 0 && (
              <EmptyState title="No Plan reading yet">
                Anthropic reports the Plan's usage windows on its answers to a Claude plan login. Users who sign in to Claude Code with an API key, or whose keys have
                not been used yet, have none.
              </EmptyState>
            )}
            {data && data.items.length > 0 && (
              <div className="space-y-4">
                {data.items.map((item) => (
                  <PlanKey key={item.access_key_id} item={item} user={user} timeZone={data.timezone} />
                ))}
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  From each key's last Plan answer; times in {data.timezone}. The mark on a bar is the switch threshold.
                </p>
              </div>
            )}
          </Panel>
        </div>
        {!load && <PlanSettingsPanel user={user} onSaved={windows.reload} />}
      </div>
    </section>
  );
}

function PlanKey({ item, user, timeZone }: { item: PlanWindow; user: User; timeZone: string }) {
  const routes = routesNow(item, user.routing_strategy);
  const b = item.breaker;
  return (
    <article aria-label={`Plan window of ${item.key_prefix}`} data-testid="plan-key" className="space-y-3 rounded-md border border-slate-200 dark:border-slate-700 p-3">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-mono text-sm font-medium">{item.key_prefix}…</h3>
        {item.status && (
          <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLES[item.status]}`}>Anthropic: {item.status.replace('_', ' ')}</span>
        )}
        {item.warning && (
          <span
            data-testid="plan-warning"
            className="inline-block rounded-full border border-amber-400 bg-amber-50 dark:bg-amber-950 px-2 py-0.5 text-xs font-semibold text-amber-900 dark:text-amber-200"
            title="Anthropic reports a warning threshold crossed. Shown only: the switch threshold decides when to move."
          >
            ⚠ Anthropic warning
          </span>
        )}
        {item.observed_at && <span className="text-xs text-slate-500 dark:text-slate-400">read {formatDateTime(item.observed_at, timeZone)}</span>}
      </div>
      {item.observed_at === null ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">No Plan reading yet for this key: it is listed for its circuit breaker.</p>
      ) : (
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          {shownWindows(item.windows).map((w) => (
            <UtilizationBar
              key={w.name}
              label={w.label}
              keyPrefix={item.key_prefix}
              reading={w.reading}
              // Paid overage is not switched on by threshold: no mark on its bar.
              threshold={w.name === 'overage' ? null : item.threshold}
              timeZone={timeZone}
            />
          ))}
        </div>
      )}
      <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
        <dt className="text-slate-600 dark:text-slate-300">Requests go to</dt>
        <dd data-testid="plan-route">
          <ul>
            {routes.map((r) => {
              const families = familiesLabel(r.families);
              return (
                <li key={r.families.join()}>
                  {families && `${families}: `}
                  <span className={ROUTE_STYLES[r.provider === 'plan' && r.reason === 'no_bedrock_key' ? 'no_bedrock_key' : r.provider]}>{routeLabel(r)}</span>
                  {r.until && ` until ${formatDateTime(r.until, timeZone)}`}
                </li>
              );
            })}
          </ul>
        </dd>
        <dt className="text-slate-600 dark:text-slate-300">Switch threshold</dt>
        <dd>
          {formatThreshold(item.threshold)} ({item.threshold_source === 'user' ? "the user's own" : 'server default'})
        </dd>
        <dt className="text-slate-600 dark:text-slate-300">Paid overage</dt>
        <dd>
          {item.overage_status ?? 'not reported'} · {item.overage_policy === 'stay' ? 'stays on Anthropic' : 'moves to Bedrock'} when available
        </dd>
        <dt className="text-slate-600 dark:text-slate-300">Circuit breaker</dt>
        <dd className={breakerStyle(b)}>
          {breakerLabel(b)}
          {b.failures > 0 && ` · ${b.failures} failure${b.failures === 1 ? '' : 's'}`}
          {b.reason && ` · ${b.reason}`}
          {b.retry_at && ` · retries ${formatDateTime(b.retry_at, timeZone)}`}
        </dd>
      </dl>
    </article>
  );
}

/** One window's utilization: red from the switch threshold, amber past Anthropic's warning. */
function UtilizationBar({
  label,
  keyPrefix,
  reading,
  threshold,
  timeZone,
}: {
  label: string;
  keyPrefix: string;
  reading: WindowReading | null;
  threshold: number | null;
  timeZone: string;
}) {
  const u = reading?.utilization ?? null;
  const share = Math.min(Math.max(u ?? 0, 0), 1);
  const color = u !== null && (u >= 1 || (threshold !== null && u >= threshold)) ? 'bg-red-600' : reading?.surpassed_threshold != null ? 'bg-amber-500' : 'bg-emerald-600';
  // A window whose reset has passed is a new one: its old utilization no longer counts.
  const passed = reading?.resets_at ? Date.parse(reading.resets_at) <= Date.now() : false;
  const resets = reading?.resets_at ? `${passed ? 'reset' : 'resets'} ${formatDateTime(reading.resets_at, timeZone)}` : 'reset time not reported';
  return (
    <div>
      <div className="flex justify-between gap-2 text-sm">
        <span className="text-slate-700 dark:text-slate-200">{label}</span>
        <span className="font-semibold tabular-nums">{reading ? formatUtilization(u) : 'not reported'}</span>
      </div>
      <div
        role="progressbar"
        aria-label={`${label} window of ${keyPrefix}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(share * 100)}
        aria-valuetext={reading ? `${formatUtilization(u)} used, ${resets}` : 'not reported'}
        className="relative mt-1 h-2 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
      >
        <div className={`h-full ${passed ? 'bg-slate-400' : color}`} style={{ width: `${share * 100}%` }} />
        {threshold !== null && <div className="absolute inset-y-0 w-0.5 bg-slate-800 dark:bg-slate-200" style={{ left: `${Math.min(threshold, 1) * 100}%` }} />}
      </div>
      {reading && (
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400 tabular-nums">
          {resets}
          {passed && ' (a new window since)'}
          {reading.surpassed_threshold !== null && ` · Anthropic warns from ${formatPercent(reading.surpassed_threshold)}`}
        </p>
      )}
    </div>
  );
}
