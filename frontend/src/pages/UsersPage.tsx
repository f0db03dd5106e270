import { useEffect, useId, useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { BudgetBar } from '../components/BudgetBar.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Pager } from '../components/Pager.tsx';
import { NoBedrockKeyFlag } from '../components/NoBedrockKeyFlag.tsx';
import { Panel } from '../components/Panel.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { api } from '../lib/api.ts';
import { useCanChange } from '../lib/session.tsx';
import { formatDateTime, formatInteger, formatUsd } from '../lib/format.ts';
import { ROUTING_LABELS } from '../lib/labels.ts';
import { Link, navigate } from '../lib/router.tsx';
import type { UserStatus } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';
import { useSubmit } from '../lib/use-submit.ts';

const PAGE = 20;

export function UsersPage() {
  const id = useId();
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<UserStatus | ''>('');
  const [offset, setOffset] = useState(0);

  // Search as the admin types, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQ(search.trim());
      setOffset(0);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  // Each row carries this month's budget figures: one request for the whole page.
  const users = useAsync(async () => ({ page: await api.users({ limit: PAGE, offset, q: q || undefined, status: status || undefined }) }), [q, status, offset]);
  // Users whose plan_first keys have no Bedrock key: flagged in their row.
  const readiness = useAsync(() => api.fallbackReadiness(), []);
  const cannotFallBack = new Set(readiness.data?.keys_without_bedrock_key.map((k) => k.user_id));
  const canChange = useCanChange();

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      {canChange && <CreateUser />}
      <Panel title="All users">
        <div className="mb-3 flex flex-wrap items-end gap-3">
          <div className="w-64 max-w-full">
            <label htmlFor={`${id}-search`} className="label">
              Search by name or email
            </label>
            <input id={`${id}-search`} type="search" className="input" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. alice" />
          </div>
          <div>
            <label htmlFor={`${id}-status`} className="label">
              Status
            </label>
            <select
              id={`${id}-status`}
              className="input"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as UserStatus | '');
                setOffset(0);
              }}
            >
              <option value="">Active and inactive</option>
              <option value="active">Active</option>
              <option value="inactive">Inactive</option>
              <option value="deleted">Deleted</option>
            </select>
          </div>
          {users.loading && <p className="text-sm text-slate-500 dark:text-slate-400">Loading…</p>}
        </div>
        {users.error && <Alert>{users.error}</Alert>}
        {users.data && users.data.page.total === 0 && (
          <EmptyState title={q || status ? 'No user matches' : 'No users yet'}>
            {q || status ? 'Try another name or status.' : 'Create the first user above, then issue them an access key on their page.'}
          </EmptyState>
        )}
        {users.data && users.data.page.items.length > 0 && (
          <div className="overflow-x-auto">
            <table className="table-basic">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Routing</th>
                  <th scope="col" className="text-right">
                    Requests this month
                  </th>
                  <th scope="col" className="text-right">
                    Cost this month
                  </th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Bedrock budget this month</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {users.data.page.items.map((u) => {
                  const b = u.budget;
                  return (
                    <tr key={u.id}>
                      <td>
                        <Link to={`/users/${u.id}`} className="font-medium text-indigo-700 dark:text-indigo-300 hover:underline">
                          {u.name}
                        </Link>
                        {u.email && <p className="text-xs text-slate-600 dark:text-slate-300 break-all">{u.email}</p>}
                        {u.description && <p className="text-xs text-slate-500 dark:text-slate-400">{u.description}</p>}
                      </td>
                      <td>
                        <StatusBadge status={u.status} />
                      </td>
                      <td>
                        <span className="whitespace-nowrap">{ROUTING_LABELS[u.routing_strategy] ?? u.routing_strategy}</span>
                        {cannotFallBack.has(u.id) && <NoBedrockKeyFlag routing={u.routing_strategy} />}
                      </td>
                      <td className="text-right tabular-nums">{formatInteger(u.month_requests)}</td>
                      <td className="text-right tabular-nums">{formatUsd(u.month_cost_usd)}</td>
                      <td className="whitespace-nowrap text-slate-600 dark:text-slate-300">{u.last_seen_at ? formatDateTime(u.last_seen_at) : 'never'}</td>
                      <td>
                        {u.monthly_budget_usd === null ? (
                          <span className="text-slate-500 dark:text-slate-400">No budget</span>
                        ) : (
                          <BudgetBar spent={b.spent_usd} reserved={b.reserved_usd} budget={b.monthly_budget_usd} label={`Budget used by ${u.name}`} />
                        )}
                      </td>
                      <td className="whitespace-nowrap text-slate-600 dark:text-slate-300">{formatDateTime(u.created_at)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {users.data && <Pager offset={offset} limit={PAGE} total={users.data.page.total} onChange={setOffset} label="Users pages" />}
      </Panel>
    </div>
  );
}

function CreateUser() {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const user = await api.createUser({ name: name.trim(), description: description.trim() || null });
    navigate(`/users/${user.id}?created=1`);
  });

  return (
    <Panel title="Create a user">
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <div className="w-56 max-w-full">
          <label htmlFor={`${id}-name`} className="label">
            Name
          </label>
          <input id={`${id}-name`} className="input" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="min-w-56 flex-1">
          <label htmlFor={`${id}-description`} className="label">
            Description (optional)
          </label>
          <input id={`${id}-description`} className="input" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <button type="submit" className="btn-primary" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
        {error && (
          <div className="basis-full">
            <Alert>{error}</Alert>
          </div>
        )}
      </form>
    </Panel>
  );
}
