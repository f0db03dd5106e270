import { Fragment, useId, useState, type FormEvent, type ReactNode } from 'react';
import { errorText } from '../../lib/api-error.ts';
import { formatDateTime } from '../../lib/format.ts';
import { userKeyEndpoints, type KeyEndpoints } from '../../lib/key-endpoints.ts';
import { breakerLabel, breakerStyle } from '../../lib/labels.ts';
import type { AccessKey, BedrockKeyStatus, Breaker, NewKey, User } from '../../lib/types.ts';
import { useAsync } from '../../lib/use-async.ts';
import { Alert } from '../Alert.tsx';
import { ConfirmAction } from '../ConfirmAction.tsx';
import { EmptyState } from '../EmptyState.tsx';
import { KeyReveal } from '../KeyReveal.tsx';
import { Panel } from '../Panel.tsx';
import { StatusBadge } from '../StatusBadge.tsx';
import { BedrockKeyEditor } from './BedrockKeyEditor.tsx';

interface KeyRow {
  key: AccessKey;
  bedrock: BedrockKeyStatus | null;
  breaker: Breaker | null;
}

/** The list carries each key's Bedrock key and breaker: one request for the whole table. */
async function loadKeys(endpoints: KeyEndpoints): Promise<KeyRow[]> {
  const { items } = await endpoints.list();
  return items.map(({ bedrock_key, circuit_breaker, ...key }) => ({
    key,
    bedrock: bedrock_key,
    // A revoked key can never be served again: its breaker is not worth showing.
    breaker: key.status !== 'revoked' ? circuit_breaker : null,
  }));
}

/**
 * `onChanged` tells the page a key changed (its no-Bedrock-key flag may have). `endpoints`: the
 * routes to act through (default: the admin routes for `user`; the developer page passes its own);
 * `summary` says something about the keys above the form (the developer page: how many they hold).
 */
export function AccessKeysPanel({
  user,
  onChanged,
  endpoints: given,
  summary,
}: {
  user: User;
  onChanged?: () => void;
  endpoints?: KeyEndpoints;
  summary?: (keys: AccessKey[]) => ReactNode;
}) {
  const id = useId();
  const endpoints = given ?? userKeyEndpoints(user.id);
  const loaded = useAsync(() => loadKeys(endpoints), [user.id, given]);
  const keys = {
    ...loaded,
    reload: () => {
      loaded.reload();
      onChanged?.();
    },
  };
  const [issued, setIssued] = useState<NewKey | null>(null);
  const [region, setRegion] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const usable = user.status !== 'deleted';

  const issue = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setIssued(await endpoints.issue(region.trim() || null));
      setRegion('');
      keys.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="Access keys" testId="access-keys">
      {issued && (
        <div className="mb-4">
          <KeyReveal issued={issued} onDone={() => setIssued(null)} />
        </div>
      )}
      {keys.data && summary?.(keys.data.map((row) => row.key))}
      {usable && (
        <form onSubmit={issue} className="mb-4 flex flex-wrap items-end gap-3">
          <div className="w-56">
            <label htmlFor={`${id}-region`} className="label">
              Bedrock region (optional)
            </label>
            <input id={`${id}-region`} className="input" placeholder="server default" value={region} onChange={(e) => setRegion(e.target.value)} />
          </div>
          <button type="submit" className="btn-primary" disabled={busy}>
            {busy ? 'Issuing…' : 'Issue new key'}
          </button>
          {user.status === 'inactive' && <p className="text-sm text-amber-800 dark:text-amber-200">The user is inactive: new keys work once they are reactivated.</p>}
        </form>
      )}
      {error && (
        <div className="mb-3">
          <Alert>{error}</Alert>
        </div>
      )}
      {keys.error && <Alert>{keys.error}</Alert>}
      {keys.data && keys.data.length === 0 && (
        <EmptyState title="No access keys yet">Issue one above; the key and the Claude Code set-up are shown once.</EmptyState>
      )}
      {keys.data && keys.data.length > 0 && (
        <div className="overflow-x-auto">
          <table className="table-basic">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Status</th>
                <th scope="col">Bedrock key</th>
                <th scope="col">Region</th>
                <th scope="col">Circuit breaker</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map(({ key, bedrock, breaker }) => (
                <Fragment key={key.id}>
                  <tr className={key.status === 'revoked' ? 'text-slate-500 dark:text-slate-400' : undefined}>
                    <td className="font-mono text-xs whitespace-nowrap">{key.key_prefix}…</td>
                    <td>
                      <StatusBadge status={key.status} />
                      {key.rotation_expires_at && key.status === 'rotating' && (
                        <p className="text-xs text-slate-500 dark:text-slate-400">until {formatDateTime(key.rotation_expires_at)}</p>
                      )}
                    </td>
                    <td className="whitespace-nowrap">{bedrock ? <span className="font-mono">…{bedrock.last4}</span> : 'Not set'}</td>
                    <td className="whitespace-nowrap">{key.bedrock_region ?? 'server default'}</td>
                    <td>
                      <BreakerCell breaker={breaker} onReset={keys.reload} reset={endpoints.resetBreaker} />
                    </td>
                    <td className="whitespace-nowrap">{formatDateTime(key.created_at)}</td>
                    <td>
                      {key.status !== 'revoked' && usable && (
                        <div className="flex flex-wrap gap-2">
                          <button
                            type="button"
                            className="btn-secondary whitespace-nowrap"
                            aria-expanded={editing === key.id}
                            onClick={() => setEditing(editing === key.id ? null : key.id)}
                          >
                            Bedrock key<span className="sr-only"> for {key.key_prefix}</span>
                          </button>
                          {key.status === 'active' && (
                            <ConfirmAction
                              danger={false}
                              label="Rotate"
                              detail={key.key_prefix}
                              confirmLabel="Yes, rotate"
                              question="Issue a replacement key? The old one keeps working for the grace period, then the server revokes it."
                              onConfirm={async () => {
                                setIssued(await endpoints.rotate(key.id));
                                keys.reload();
                              }}
                            />
                          )}
                          <ConfirmAction
                            label="Revoke"
                            detail={key.key_prefix}
                            confirmLabel="Yes, revoke"
                            question="Revoke this key? It stops working on every proxy task at once and its Bedrock key is erased."
                            onConfirm={async () => {
                              await endpoints.revoke(key.id);
                              keys.reload();
                            }}
                          />
                        </div>
                      )}
                    </td>
                  </tr>
                  {editing === key.id && (
                    <tr>
                      <td colSpan={7} className="bg-slate-50 dark:bg-slate-800">
                        <BedrockKeyEditor accessKey={key} status={bedrock} onChanged={keys.reload} endpoints={endpoints} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** `reset`: the route that closes the breaker; without it (not an admin) the state is shown only. */
function BreakerCell({ breaker, onReset, reset: resetBreaker }: { breaker: Breaker | null; onReset: () => void; reset?: (keyId: string) => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  if (!breaker) return <span className="text-slate-500 dark:text-slate-400">—</span>;
  const tripped = breaker.state !== 'closed' || breaker.failures > 0;
  const reset = async () => {
    if (!resetBreaker) return;
    setError(null);
    try {
      await resetBreaker(breaker.access_key_id);
      onReset();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div className="space-y-1">
      <p className={breakerStyle(breaker)}>
        {breakerLabel(breaker)}
      </p>
      {tripped && (
        <p className="text-xs text-slate-500 dark:text-slate-400">
          {breaker.failures} failure{breaker.failures === 1 ? '' : 's'}
          {breaker.reason && ` · ${breaker.reason}`}
          {breaker.retry_at && ` · retries ${formatDateTime(breaker.retry_at)}`}
        </p>
      )}
      {tripped && resetBreaker && (
        <button type="button" className="btn-secondary" onClick={reset}>
          Reset breaker
        </button>
      )}
      {error && <Alert>{error}</Alert>}
    </div>
  );
}
