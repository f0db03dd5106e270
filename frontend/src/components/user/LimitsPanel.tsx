import { useId, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';
import { useCanChange } from '../../lib/session.tsx';
import { errorText } from '../../lib/api-error.ts';
import type { Limits, User } from '../../lib/types.ts';
import { useAsync } from '../../lib/use-async.ts';
import { Alert } from '../Alert.tsx';
import { Panel } from '../Panel.tsx';
import { LinesSkeleton } from '../Skeleton.tsx';

/** A limit field's text as the API wants it: blank is no limit (null), else a whole number of at least 1. */
function parseLimit(text: string, name: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 1_000_000) throw new Error(`${name}: a whole number from 1 to 1,000,000, or blank for no limit.`);
  return Number(t);
}

/** Requests per minute and requests in flight (GET/PUT /admin/users/:id/limits), as `ccproxy limits` sets them. */
export function LimitsPanel({ user }: { user: User }) {
  const limits = useAsync(() => api.limits(user.id), [user.id]);
  return (
    <Panel title="Request limits" testId="limits">
      {limits.error && <Alert>{limits.error}</Alert>}
      {!limits.data && !limits.error && <LinesSkeleton rows={2} />}
      {/* The form starts from what is saved (keyed: a fresh form for fresh figures). */}
      {limits.data && <LimitsForm key={JSON.stringify(limits.data)} user={user} limits={limits.data} />}
      <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
        Blank: no limit. Each proxy task counts on its own, so behind several tasks a user may get up to that many times these numbers: they stop a runaway
        client; the monthly budget caps money.
      </p>
    </Panel>
  );
}

function LimitsForm({ user, limits }: { user: User; limits: Limits }) {
  const id = useId();
  const [rpm, setRpm] = useState(limits.max_requests_per_minute?.toString() ?? '');
  const [inFlight, setInFlight] = useState(limits.max_in_flight?.toString() ?? '');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const canChange = useCanChange();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    setBusy(true);
    try {
      const body = { max_requests_per_minute: parseLimit(rpm, 'Requests per minute'), max_in_flight: parseLimit(inFlight, 'Requests in flight') };
      const saved = await api.setLimits(user.id, body);
      setRpm(saved.max_requests_per_minute?.toString() ?? '');
      setInFlight(saved.max_in_flight?.toString() ?? '');
      setMessage({ kind: 'success', text: 'Limits saved. Every proxy task applies them from its next request.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <div className="w-40">
          <label htmlFor={`${id}-rpm`} className="label">
            Requests per minute
          </label>
          <input id={`${id}-rpm`} className="input" inputMode="numeric" placeholder="no limit" disabled={!canChange} value={rpm} onChange={(e) => setRpm(e.target.value)} />
        </div>
        <div className="w-40">
          <label htmlFor={`${id}-in-flight`} className="label">
            Requests in flight
          </label>
          <input id={`${id}-in-flight`} className="input" inputMode="numeric" placeholder="no limit" disabled={!canChange} value={inFlight} onChange={(e) => setInFlight(e.target.value)} />
        </div>
        {canChange && (
          <button type="submit" className="btn-primary" disabled={busy || user.status === 'deleted'}>
            {busy ? 'Saving…' : 'Save limits'}
          </button>
        )}
      </form>
      {message && (
        <div className="mt-3">
          <Alert kind={message.kind}>{message.text}</Alert>
        </div>
      )}
    </>
  );
}
