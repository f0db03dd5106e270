import { useEffect, useId, useState, type FormEvent } from 'react';
import { Alert } from '../components/Alert.tsx';
import { CsvLink } from '../components/CsvLink.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Panel } from '../components/Panel.tsx';
import { LinesSkeleton } from '../components/Skeleton.tsx';
import { api, serverTimeZone } from '../lib/api.ts';
import { errorText } from '../lib/api-error.ts';
import { formatDateTime, formatInteger, formatTokens, formatUsd } from '../lib/format.ts';
import { FALLBACK_UNAVAILABLE_LABELS, OUTCOME_LABELS, reasonLabel } from '../lib/labels.ts';
import { csvHref, FALLBACK_UNAVAILABLE, filtersFromSearch, OUTCOMES, requestLogPath, STATUS_CLASSES, type RequestFilters } from '../lib/request-log.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { zonedInstant, zonedLocalInput } from '../lib/time-zone.ts';
import type { RequestLogItem } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

const PAGE = 50;

/** The request log: newest first, filtered by what the address says, older pages on demand. */
export function RequestsPage() {
  const { search } = useLocation();
  const applied = filtersFromSearch(search);
  const key = JSON.stringify(applied);
  const zone = useAsync(() => serverTimeZone(), []);
  const first = useAsync(() => api.requests({ ...applied, limit: PAGE }), [key]);
  // Older pages loaded by "Load older requests", for the filters they were loaded with.
  const [older, setOlder] = useState<{ key: string; items: RequestLogItem[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const extra = older?.key === key ? older : null;
  const items = [...(first.data?.items ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (first.data?.next_cursor ?? null);
  const timeZone = first.data?.timezone ?? zone.data;

  const loadOlder = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.requests({ ...applied, limit: PAGE, cursor });
      setOlder({ key, items: [...(extra?.items ?? []), ...page.items], cursor: page.next_cursor });
    } catch (err) {
      setMoreError(errorText(err));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Requests</h1>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Every proxied request, newest first{timeZone ? `; times in ${timeZone}` : ''}. The address keeps the filters: a link shows the same view.
        </p>
      </div>
      {timeZone && <Filters key={key} applied={applied} timeZone={timeZone} />}
      <Panel
        title="Request log"
        testId="request-log"
        actions={<CsvLink href={csvHref('/requests.csv', applied)} what="the requests matching these filters" />}
      >
        {first.error && <Alert>{first.error}</Alert>}
        {!first.data && !first.error && <LinesSkeleton />}
        {first.data && items.length === 0 && (
          <EmptyState title={Object.keys(applied).length ? 'No request matches these filters' : 'No requests yet'}>
            {Object.keys(applied).length ? 'Widen the filters, or clear them.' : 'Requests appear here as soon as a key is used.'}
          </EmptyState>
        )}
        {items.length > 0 && timeZone && <RequestTable items={items} timeZone={timeZone} />}
        {moreError && <Alert>{moreError}</Alert>}
        {first.data && (
          <div className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm">
            <p className="text-slate-600 dark:text-slate-300" data-testid="request-count">
              {formatInteger(items.length)} request{items.length === 1 ? '' : 's'} shown{cursor ? '; older ones on request' : ''}
            </p>
            {cursor && (
              <button type="button" className="btn-secondary" onClick={loadOlder} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load older requests'}
              </button>
            )}
          </div>
        )}
      </Panel>
    </div>
  );
}

/** The filter form: starts from the address and, on Apply, writes the address (which reloads the log). */
function Filters({ applied, timeZone }: { applied: RequestFilters; timeZone: string }) {
  const id = useId();
  const [form, setForm] = useState<RequestFilters>({
    ...applied,
    from: applied.from ? zonedLocalInput(applied.from, timeZone) : '',
    to: applied.to ? zonedLocalInput(applied.to, timeZone) : '',
  });
  const users = useAsync(() => api.users({ limit: 500, offset: 0 }), []);
  const keys = useAsync(async () => (form.user_id ? (await api.accessKeys(form.user_id)).items : []), [form.user_id]);
  useEffect(() => {
    // Another user's keys: a chosen key of the previous user no longer applies.
    if (keys.data && form.access_key_id && !keys.data.some((k) => k.id === form.access_key_id)) setForm((f) => ({ ...f, access_key_id: '' }));
  }, [keys.data]);

  const set = (field: keyof RequestFilters) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(
      requestLogPath({
        ...form,
        from: form.from ? zonedInstant(form.from, timeZone) : undefined,
        to: form.to ? zonedInstant(form.to, timeZone) : undefined,
      }),
    );
  };

  return (
    <Panel title="Filters">
      <form onSubmit={submit} className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <div>
          <label htmlFor={`${id}-user`} className="label">
            User
          </label>
          <select id={`${id}-user`} className="input" value={form.user_id ?? ''} onChange={set('user_id')}>
            <option value="">All users</option>
            {form.user_id && !users.data?.items.some((u) => u.id === form.user_id) && <option value={form.user_id}>{form.user_id}</option>}
            {users.data?.items.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-key`} className="label">
            Access key
          </label>
          <select id={`${id}-key`} className="input" value={form.access_key_id ?? ''} onChange={set('access_key_id')} disabled={!form.user_id}>
            <option value="">{form.user_id ? 'All keys of the user' : 'Choose a user first'}</option>
            {keys.data?.map((k) => (
              <option key={k.id} value={k.id}>
                {k.key_prefix}… ({k.status})
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-provider`} className="label">
            Provider
          </label>
          <select id={`${id}-provider`} className="input" value={form.provider ?? ''} onChange={set('provider')}>
            <option value="">Plan and Bedrock</option>
            <option value="plan">Plan</option>
            <option value="bedrock">Bedrock</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-model`} className="label">
            Model
          </label>
          <input id={`${id}-model`} className="input" placeholder="e.g. claude-sonnet-5-5" value={form.model ?? ''} onChange={set('model')} />
        </div>
        <div>
          <label htmlFor={`${id}-status`} className="label">
            Status
          </label>
          <select id={`${id}-status`} className="input" value={form.status_class ?? ''} onChange={set('status_class')}>
            <option value="">Any status</option>
            {STATUS_CLASSES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-outcome`} className="label">
            Outcome
          </label>
          <select id={`${id}-outcome`} className="input" value={form.outcome ?? ''} onChange={set('outcome')}>
            <option value="">Any outcome</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {OUTCOME_LABELS[o]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-code`} className="label">
            Error code
          </label>
          <input id={`${id}-code`} className="input" placeholder="e.g. rate_limit_error or http_500" value={form.code ?? ''} onChange={set('code')} />
        </div>
        <div>
          <label htmlFor={`${id}-fallback`} className="label">
            Fallback
          </label>
          <select
            id={`${id}-fallback`}
            className="input"
            // One select for both filters: served fallbacks, others, or one reason a fallback was impossible.
            value={form.fallback_unavailable ? `unavailable:${form.fallback_unavailable}` : (form.fallback ?? '')}
            onChange={(e) => {
              const v = e.target.value;
              if (v.startsWith('unavailable:')) setForm({ ...form, fallback: '', fallback_unavailable: v.slice('unavailable:'.length) });
              else setForm({ ...form, fallback: v, fallback_unavailable: '' });
            }}
          >
            <option value="">Any</option>
            <option value="true">Served by a fallback to Bedrock</option>
            <option value="false">Not a fallback</option>
            {FALLBACK_UNAVAILABLE.map((r) => (
              <option key={r} value={`unavailable:${r}`}>
                Fallback impossible: {FALLBACK_UNAVAILABLE_LABELS[r]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-from`} className="label">
            From ({timeZone})
          </label>
          <input id={`${id}-from`} type="datetime-local" className="input" value={form.from ?? ''} onChange={set('from')} />
        </div>
        <div>
          <label htmlFor={`${id}-to`} className="label">
            Until ({timeZone})
          </label>
          <input id={`${id}-to`} type="datetime-local" className="input" value={form.to ?? ''} onChange={set('to')} />
        </div>
        <div className="flex items-end gap-2 sm:col-span-2">
          <button type="submit" className="btn-primary">
            Apply filters
          </button>
          <Link to="/requests" className="btn-secondary">
            Clear
          </Link>
        </div>
      </form>
    </Panel>
  );
}

function RequestTable({ items, timeZone }: { items: RequestLogItem[]; timeZone: string }) {
  return (
    <div className="overflow-x-auto">
      <table className="table-basic">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">User / key</th>
            <th scope="col">Model</th>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">Code</th>
            <th scope="col" className="text-right">
              Latency
            </th>
            <th scope="col" className="text-right">
              TTFB
            </th>
            <th scope="col" className="text-right">
              Tokens in / out
            </th>
            <th scope="col" className="text-right">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <Row key={r.id} r={r} timeZone={timeZone} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Row({ r, timeZone }: { r: RequestLogItem; timeZone: string }) {
  const failed = r.status_code >= 400 || r.outcome !== 'completed';
  return (
    <tr data-testid="request-row">
      <td className="whitespace-nowrap tabular-nums">
        {formatDateTime(r.occurred_at, timeZone)}
        {/* The id Anthropic, Bedrock and the proxy's access line know the request by. */}
        <p data-testid="request-id" className="font-mono text-xs text-slate-500 dark:text-slate-400">
          {r.request_id}
        </p>
      </td>
      <td>
        <Link to={`/users/${r.user_id}`} className="text-indigo-700 dark:text-indigo-300 hover:underline">
          {r.user_name ?? r.user_id}
        </Link>
        {r.key_prefix && <p className="font-mono text-xs text-slate-500 dark:text-slate-400">{r.key_prefix}…</p>}
      </td>
      <td className="font-mono text-xs whitespace-nowrap">
        {r.requested_model ?? '—'}
        {r.served_model && r.served_model !== r.requested_model && <p className="text-slate-500 dark:text-slate-400">→ {r.served_model}</p>}
        {r.endpoint === 'count_tokens' && <p className="text-slate-500 dark:text-slate-400">count_tokens</p>}
      </td>
      <td>
        {r.provider === 'plan' ? 'Plan' : 'Bedrock'}
        {r.is_fallback && <p className="text-xs text-slate-600 dark:text-slate-300">fallback: {reasonLabel(r.fallback_reason)}</p>}
        {r.fallback_unavailable && (
          <p className="text-xs font-medium whitespace-nowrap text-amber-800 dark:text-amber-200">
            fallback impossible: {FALLBACK_UNAVAILABLE_LABELS[r.fallback_unavailable] ?? r.fallback_unavailable}
          </p>
        )}
      </td>
      <td className="whitespace-nowrap">
        <span className={failed ? 'font-semibold text-red-700 dark:text-red-400' : 'text-emerald-700 dark:text-emerald-400'}>{r.status_code}</span>{' '}
        <span className="text-xs text-slate-600 dark:text-slate-300">{OUTCOME_LABELS[r.outcome] ?? r.outcome}</span>
      </td>
      <td className="font-mono text-xs">{r.error_code ?? r.error_type ?? '—'}</td>
      <td className="text-right tabular-nums whitespace-nowrap">{formatInteger(r.latency_ms)} ms</td>
      <td className="text-right tabular-nums whitespace-nowrap">{r.ttfb_ms === null ? '—' : `${formatInteger(r.ttfb_ms)} ms`}</td>
      <td className="text-right tabular-nums whitespace-nowrap">
        {formatTokens(r.input_tokens)} / {formatTokens(r.output_tokens)}
        {(r.cache_read_tokens > 0 || r.cache_write_tokens > 0) && (
          <p className="text-xs text-slate-500 dark:text-slate-400">
            cache {formatTokens(r.cache_read_tokens)} read, {formatTokens(r.cache_write_tokens)} written
          </p>
        )}
      </td>
      <td className="text-right tabular-nums">{formatUsd(r.cost_usd)}</td>
    </tr>
  );
}
