import { useId, useState, type FormEvent } from 'react';
import { Alert } from '../components/Alert.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Pager } from '../components/Pager.tsx';
import { Panel } from '../components/Panel.tsx';
import { api } from '../lib/api.ts';
import { AUDIT_TARGET_TYPES, changedFields, dayBoundary } from '../lib/audit.ts';
import { formatDateTime, getShownTimeZone } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import type { AuditEntry } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

const PAGE = 50;
interface Filters {
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { actor: '', action: '', target_type: '', target_id: '', from: '', to: '' };

export function AuditLogPage() {
  const id = useId();
  const [form, setForm] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [offset, setOffset] = useState(0);
  // The server's TIMEZONE, as everywhere on the dashboard (set before any page shows).
  const timeZone = getShownTimeZone() ?? 'UTC';

  const log = useAsync(
    () =>
      api.auditLog({
        limit: PAGE,
        offset,
        actor: applied.actor.trim(),
        action: applied.action.trim(),
        target_type: applied.target_type,
        target_id: applied.target_id.trim(),
        since: applied.from ? dayBoundary(applied.from, timeZone) : undefined,
        until: applied.to ? dayBoundary(applied.to, timeZone, true) : undefined,
      }),
    [JSON.stringify(applied), offset],
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApplied(form);
    setOffset(0);
  };
  const field = (key: keyof Filters) => ({ value: form[key], onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }) });

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p className="text-sm text-slate-600 dark:text-slate-300">Every admin change: who, what, when and from where. Times and days in the server's time zone ({timeZone}).</p>
      </div>
      <Panel title="Filter">
        <form onSubmit={submit} className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <div>
            <label htmlFor={`${id}-actor`} className="label">
              Actor
            </label>
            <input id={`${id}-actor`} className="input" placeholder="admin, or system" {...field('actor')} />
          </div>
          <div>
            <label htmlFor={`${id}-action`} className="label">
              Action
            </label>
            <input id={`${id}-action`} className="input" placeholder="e.g. user.deactivate" {...field('action')} />
          </div>
          <div>
            <label htmlFor={`${id}-type`} className="label">
              Target type
            </label>
            <select id={`${id}-type`} className="input" {...field('target_type')}>
              <option value="">Any</option>
              {AUDIT_TARGET_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${id}-target`} className="label">
              Target id
            </label>
            <input id={`${id}-target`} className="input" {...field('target_id')} />
          </div>
          <div>
            <label htmlFor={`${id}-from`} className="label">
              From (day)
            </label>
            <input id={`${id}-from`} type="date" className="input" {...field('from')} />
          </div>
          <div>
            <label htmlFor={`${id}-to`} className="label">
              To (day, inclusive)
            </label>
            <input id={`${id}-to`} type="date" className="input" {...field('to')} />
          </div>
          <div className="flex items-end gap-2">
            <button type="submit" className="btn-primary">
              Apply filters
            </button>
            <button
              type="button"
              className="btn-secondary"
              onClick={() => {
                setForm(NO_FILTERS);
                setApplied(NO_FILTERS);
                setOffset(0);
              }}
            >
              Clear
            </button>
          </div>
        </form>
      </Panel>
      <Panel title="Entries">
        {log.error && <Alert>{log.error}</Alert>}
        {log.data && log.data.total === 0 && <EmptyState title="No entries match">Changes made in the dashboard, the CLI or the API appear here.</EmptyState>}
        {log.data && log.data.items.length > 0 && (
          <div className="overflow-x-auto">
            <table className="table-basic">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">From</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {log.data.items.map((e) => (
                  <Row key={e.id} entry={e} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {log.data && <Pager offset={offset} limit={PAGE} total={log.data.total} onChange={setOffset} label="Audit log pages" />}
      </Panel>
    </div>
  );
}

function Row({ entry: e }: { entry: AuditEntry }) {
  const fields = changedFields(e.before, e.after);
  return (
    <tr>
      <td className="whitespace-nowrap">{formatDateTime(e.occurred_at)}</td>
      <td>{e.actor}</td>
      <td className="font-mono text-xs">{e.action}</td>
      <td>
        <span className="text-slate-600 dark:text-slate-300">{e.target_type}</span>{' '}
        {e.target_type === 'user' && e.target_id ? (
          <Link to={`/users/${e.target_id}`} className="font-mono text-xs text-indigo-700 dark:text-indigo-300 hover:underline">
            {e.target_id}
          </Link>
        ) : (
          <span className="font-mono text-xs break-all">{e.target_id}</span>
        )}
      </td>
      <td className="font-mono text-xs">{e.ip ?? '—'}</td>
      <td className="min-w-48">
        <details>
          <summary className="cursor-pointer text-sm">{fields.length ? fields.slice(0, 4).join(', ') + (fields.length > 4 ? ', …' : '') : 'details'}</summary>
          <div className="mt-2 grid gap-2 md:grid-cols-2">
            <div>
              <p className="text-xs font-medium text-slate-600 dark:text-slate-300">Before</p>
              <pre className="max-h-64 overflow-auto rounded bg-slate-100 dark:bg-slate-800 p-2 text-xs">{JSON.stringify(e.before, null, 2)}</pre>
            </div>
            <div>
              <p className="text-xs font-medium text-slate-600 dark:text-slate-300">After</p>
              <pre className="max-h-64 overflow-auto rounded bg-slate-100 dark:bg-slate-800 p-2 text-xs">{JSON.stringify(e.after, null, 2)}</pre>
            </div>
          </div>
          {e.request_id && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">request {e.request_id}</p>}
        </details>
      </td>
    </tr>
  );
}
