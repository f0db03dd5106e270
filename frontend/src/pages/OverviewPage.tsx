import { useId, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { BudgetBar } from '../components/BudgetBar.tsx';
import { TopUsersChart } from '../components/charts.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Panel } from '../components/Panel.tsx';
import { PlanCards } from '../components/PlanCards.tsx';
import { ReadinessBanner } from '../components/ReadinessBanner.tsx';
import { CsvLink } from '../components/CsvLink.tsx';
import { UsageSection } from '../components/UsageSection.tsx';
import { api } from '../lib/api.ts';
import { ALERT_SHARE, isNearLimit } from '../lib/budget.ts';
import { formatTokens, formatUsd } from '../lib/format.ts';
import { csvHref } from '../lib/request-log.ts';
import { Link } from '../lib/router.tsx';
import type { Provider, UserListItem } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

export function OverviewPage() {
  const selectId = useId();
  const [userId, setUserId] = useState('');
  const [provider, setProvider] = useState<Provider | ''>('');
  // Every user for the filter (the API allows 500 a page; more than that is not a dashboard's company).
  const users = useAsync(() => api.users({ limit: 500, offset: 0 }), []);
  const readiness = useAsync(() => api.fallbackReadiness(), []);

  const filters = (
    <>
      <div>
        <label htmlFor={selectId} className="label">
          User
        </label>
        <select id={selectId} className="input" value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">All users</option>
          {users.data?.items.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor={`${selectId}-provider`} className="label">
          Provider
        </label>
        <select id={`${selectId}-provider`} className="input" value={provider} onChange={(e) => setProvider(e.target.value as Provider | '')}>
          <option value="">Plan and Bedrock</option>
          <option value="plan">Plan only</option>
          <option value="bedrock">Bedrock only</option>
        </select>
      </div>
    </>
  );

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Overview</h1>
      {users.error && <Alert>{users.error}</Alert>}
      {readiness.error && <Alert>{readiness.error}</Alert>}
      <ReadinessBanner readiness={readiness.data} />
      <UsageSection
        userId={userId || undefined}
        provider={provider || undefined}
        controls={filters}
        afterCards={(query, refresh) => <PlanCards query={query} userId={userId || undefined} refresh={refresh} />}
      >
        {(query, refresh) => (
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            <TopUsers query={provider ? { ...query, provider } : query} by="tokens" refresh={refresh} />
            <TopUsers query={provider ? { ...query, provider } : query} by="cost" refresh={refresh} />
          </div>
        )}
      </UsageSection>
      <BudgetAlerts users={users.data?.items} />
    </div>
  );
}

function TopUsers({ query, by, refresh }: { query: Record<string, string>; by: 'tokens' | 'cost'; refresh: number }) {
  const top = useAsync(() => api.topUsers({ ...query, by, limit: 5 }), [JSON.stringify(query), by, refresh]);
  const title = by === 'tokens' ? 'Top users by tokens' : 'Top users by cost';
  return (
    <Panel
      title={title}
      testId={by === 'tokens' ? 'top-users-tokens' : 'top-users-cost'}
      actions={<CsvLink href={csvHref('/usage/top-users.csv', { ...query, by, limit: 5 })} what={title.toLowerCase()} />}
    >
      {top.error && <Alert>{top.error}</Alert>}
      {top.data && (
        <>
          <TopUsersChart top={top.data} />
          {top.data.items.length > 0 && (
            <ol className="mt-2 space-y-1 text-sm">
              {top.data.items.map((item, i) => (
                <li key={item.user_id} className="flex justify-between gap-2">
                  <Link to={`/users/${item.user_id}`} className="text-indigo-700 dark:text-indigo-300 hover:underline">
                    {i + 1}. {item.name ?? item.user_id}
                  </Link>
                  <span className="tabular-nums text-slate-600 dark:text-slate-300">
                    {formatTokens(item.total_tokens)} tokens · {formatUsd(item.cost_usd)}
                  </span>
                </li>
              ))}
            </ol>
          )}
          <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">All users, whatever the user filter{query.provider ? `; ${query.provider === 'plan' ? 'Plan' : 'Bedrock'} traffic only` : ''}.</p>
        </>
      )}
    </Panel>
  );
}

/** Users near their budget, from the figures the user list carries (no request per user). */
function BudgetAlerts({ users }: { users: UserListItem[] | undefined }) {
  const budgeted = (users ?? []).filter((u) => u.monthly_budget_usd !== null);
  const byUser = new Map((users ?? []).map((u) => [u.id, u]));
  const alerts = budgeted
    .map((u) => ({ user_id: u.id, ...u.budget }))
    .filter((b) => isNearLimit(b))
    .sort((a, b) => (b.percent_used ?? 0) - (a.percent_used ?? 0));

  return (
    <Panel title="Budget alerts" testId="budget-alerts">
      {users && budgeted.length === 0 && (
        <EmptyState title="No user has a monthly Bedrock budget">Set one on a user's page to cap what their Bedrock traffic may cost.</EmptyState>
      )}
      {users && budgeted.length > 0 && alerts.length === 0 && (
        <EmptyState title="No budget is nearly used">Users who reach {Math.round(ALERT_SHARE * 100)}% of their monthly Bedrock budget appear here.</EmptyState>
      )}
      {alerts.length > 0 && (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800">
          {alerts.map((b) => {
            const name = byUser.get(b.user_id)?.name ?? b.user_id;
            return (
              <li key={b.user_id} className="flex flex-wrap items-center justify-between gap-3 py-2">
                <Link to={`/users/${b.user_id}`} className="font-medium text-indigo-700 dark:text-indigo-300 hover:underline">
                  {name}
                </Link>
                <div className="w-64 max-w-full">
                  <BudgetBar spent={b.spent_usd} reserved={b.reserved_usd} budget={b.monthly_budget_usd} label={`Budget used by ${name}`} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </Panel>
  );
}
