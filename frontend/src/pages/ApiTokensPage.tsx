import { useId, useState, type FormEvent } from 'react';
import { Alert } from '../components/Alert.tsx';
import { ConfirmAction } from '../components/ConfirmAction.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Panel } from '../components/Panel.tsx';
import { SecretReveal, Snippet } from '../components/SecretReveal.tsx';
import { LinesSkeleton } from '../components/Skeleton.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { api } from '../lib/api.ts';
import { errorText } from '../lib/api-error.ts';
import { API_TOKEN_ROLE_LABELS, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, parseTokenDays, tokenSnippets } from '../lib/api-tokens.ts';
import { formatDateTime } from '../lib/format.ts';
import type { ApiTokenRole, CreatedApiToken } from '../lib/types.ts';
import { useAsync } from '../lib/use-async.ts';

/**
 * Automation tokens (admins only; the /admin/tokens routes): create one with a role and an expiry
 * and see it once, list them with their last use, revoke one.
 */
export function ApiTokensPage() {
  const tokens = useAsync(() => api.apiTokens(), []);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">API tokens</h1>
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Automation tokens for scripts, CI (the CLI's <code>CCPROXY_TOKEN</code>) and the identity provider's SCIM provisioning. Each acts with its role until it
          expires or is revoked; the audit log names it <code>token:&lt;name&gt;</code>. The server keeps only a hash: a token is shown once, when it is made.
        </p>
      </div>
      <Panel title="Create a token">
        {created && (
          <div className="mb-4">
            <TokenReveal created={created} onDone={() => setCreated(null)} />
          </div>
        )}
        <CreateTokenForm
          onCreated={(token) => {
            setCreated(token);
            tokens.reload();
          }}
        />
      </Panel>
      <Panel title="Tokens" testId="api-tokens">
        {tokens.error && <Alert>{tokens.error}</Alert>}
        {!tokens.data && !tokens.error && <LinesSkeleton rows={3} />}
        {tokens.data && tokens.data.items.length === 0 && <EmptyState title="No tokens yet">Create one above for a script, a CI job or SCIM provisioning.</EmptyState>}
        {tokens.data && tokens.data.items.length > 0 && (
          <div className="overflow-x-auto">
            <table className="table-basic">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Revoked</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.items.map((t) => (
                  <tr key={t.id} data-testid="api-token-row">
                    <td>
                      <span className="font-medium">{t.name}</span>
                      <p className="font-mono text-xs text-slate-500 dark:text-slate-400">{t.token_prefix}…</p>
                    </td>
                    <td>{t.role}</td>
                    <td>
                      <StatusBadge status={t.status} />
                    </td>
                    <td className="whitespace-nowrap">
                      {formatDateTime(t.created_at)}
                      <p className="text-xs text-slate-500 dark:text-slate-400">by {t.created_by}</p>
                    </td>
                    <td className="whitespace-nowrap">{formatDateTime(t.expires_at)}</td>
                    <td className="whitespace-nowrap">{t.last_used_at ? formatDateTime(t.last_used_at) : 'never'}</td>
                    <td className="whitespace-nowrap">{formatDateTime(t.revoked_at)}</td>
                    <td>
                      {t.status !== 'revoked' && (
                        <ConfirmAction
                          label="Revoke"
                          detail={t.name}
                          confirmLabel="Yes, revoke"
                          question={`Revoke ${t.name}? Whatever uses it is refused (401) from its next request, on every task. This cannot be undone.`}
                          onConfirm={async () => {
                            await api.revokeApiToken(t.id);
                            tokens.reload();
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (token: CreatedApiToken) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState<ApiTokenRole>('viewer');
  const [days, setDays] = useState(String(DEFAULT_TOKEN_DAYS));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.createApiToken({ name: name.trim(), role, expires_in_days: parseTokenDays(days) }));
      setName('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
      <div className="w-56 max-w-full">
        <label htmlFor={`${id}-name`} className="label">
          Name
        </label>
        <input id={`${id}-name`} className="input" required maxLength={100} placeholder="e.g. ci-nightly-report" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="max-w-full">
        <label htmlFor={`${id}-role`} className="label">
          Role
        </label>
        <select id={`${id}-role`} className="input" value={role} onChange={(e) => setRole(e.target.value as ApiTokenRole)}>
          {(Object.keys(API_TOKEN_ROLE_LABELS) as ApiTokenRole[]).map((r) => (
            <option key={r} value={r}>
              {API_TOKEN_ROLE_LABELS[r]}
            </option>
          ))}
        </select>
      </div>
      <div className="w-36">
        <label htmlFor={`${id}-days`} className="label">
          Expires in (days)
        </label>
        <input id={`${id}-days`} className="input" type="number" required min={1} max={MAX_TOKEN_DAYS} step={1} value={days} onChange={(e) => setDays(e.target.value)} />
      </div>
      <button type="submit" className="btn-primary" disabled={busy || !name.trim()}>
        {busy ? 'Creating…' : 'Create token'}
      </button>
      {error && (
        <div className="basis-full">
          <Alert>{error}</Alert>
        </div>
      )}
    </form>
  );
}

/** A token just made: shown this once, with where it goes for its role. */
function TokenReveal({ created, onDone }: { created: CreatedApiToken; onDone: () => void }) {
  return (
    <SecretReveal
      testId="new-token"
      title={`New ${created.role} token: ${created.name}`}
      note={`Copy it now: it is shown only this once and cannot be retrieved later. It works until ${formatDateTime(created.expires_at)} unless revoked.`}
      hideLabel="I have copied it, hide the token"
      onDone={onDone}
    >
      <Snippet label="Token" text={created.token} copyLabel="Copy token" testId="new-token-value" />
      {tokenSnippets(window.location.origin, created.token, created.role).map((s) => (
        <Snippet key={s.testId} {...s} />
      ))}
    </SecretReveal>
  );
}
