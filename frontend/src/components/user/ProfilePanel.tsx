import { useId, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';
import { useCanChange } from '../../lib/session.tsx';
import { errorText } from '../../lib/api-error.ts';
import { formatDateTime } from '../../lib/format.ts';
import { ROUTING_LABELS } from '../../lib/labels.ts';
import type { RoutingStrategy, User } from '../../lib/types.ts';
import { Alert } from '../Alert.tsx';
import { Panel } from '../Panel.tsx';

/** Name, description, email (what company sign-in links a person to) and routing strategy. */
export function ProfilePanel({ user, onSaved }: { user: User; onSaved: (user: User) => void }) {
  const id = useId();
  const [name, setName] = useState(user.name);
  const [description, setDescription] = useState(user.description ?? '');
  const [email, setEmail] = useState(user.email ?? '');
  const [routing, setRouting] = useState<RoutingStrategy>(user.routing_strategy);
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const editable = useCanChange() && user.status !== 'deleted';
  const profileChanged = name.trim() !== user.name || (description.trim() || null) !== user.description || routing !== user.routing_strategy;
  const emailChanged = (email.trim() || null) !== user.email;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    let current = user;
    try {
      if (profileChanged) {
        const body: { name?: string; description?: string | null; routing_strategy?: RoutingStrategy } = {};
        if (name.trim() !== user.name) body.name = name.trim();
        if ((description.trim() || null) !== user.description) body.description = description.trim() || null;
        if (routing !== user.routing_strategy) body.routing_strategy = routing;
        current = await api.updateUser(user.id, body);
        onSaved(current);
      }
      // The email has a route of its own (PUT /users/{id}/email, audited as user.email); the user is
      // read again after it so the page shows the saved email and its new "Updated" time.
      if (emailChanged) {
        await api.setUserEmail(user.id, email.trim() || null);
        current = await api.user(user.id);
        onSaved(current);
        setEmail(current.email ?? '');
      }
      setMessage({ kind: 'success', text: 'Saved. Every proxy task uses the change from its next request.' });
    } catch (err) {
      // A part that was saved stays saved (and shown); the message says what was refused.
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="Profile and routing">
      <form onSubmit={submit} className="space-y-3">
        <div>
          <label htmlFor={`${id}-name`} className="label">
            Name
          </label>
          <input id={`${id}-name`} className="input" required maxLength={200} disabled={!editable} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${id}-description`} className="label">
            Description
          </label>
          <input id={`${id}-description`} className="input" maxLength={2000} disabled={!editable} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div>
          <label htmlFor={`${id}-email`} className="label">
            Email (company sign-in)
          </label>
          <input
            id={`${id}-email`}
            type="email"
            className="input"
            maxLength={320}
            disabled={!editable}
            placeholder="none"
            aria-describedby={`${id}-email-help`}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <p id={`${id}-email-help`} className="mt-1 text-xs text-slate-500 dark:text-slate-400">
            A person signing in with the company identity provider becomes this user when their email is this one (case does not matter). Blank: none.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-routing`} className="label">
            Routing strategy
          </label>
          <select id={`${id}-routing`} className="input" disabled={!editable} value={routing} onChange={(e) => setRouting(e.target.value as RoutingStrategy)}>
            {(Object.keys(ROUTING_LABELS) as RoutingStrategy[]).map((r) => (
              <option key={r} value={r}>
                {ROUTING_LABELS[r]}
              </option>
            ))}
          </select>
        </div>
        {message && <Alert kind={message.kind}>{message.text}</Alert>}
        {editable && (
          <button type="submit" className="btn-primary" disabled={busy || !(profileChanged || emailChanged) || !name.trim()}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        )}
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 pt-2 text-xs text-slate-600 dark:text-slate-300">
          <dt>User id</dt>
          <dd className="font-mono break-all">{user.id}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(user.created_at)}</dd>
          <dt>Updated</dt>
          <dd>{formatDateTime(user.updated_at)}</dd>
          {user.deleted_at && (
            <>
              <dt>Deleted</dt>
              <dd>{formatDateTime(user.deleted_at)}</dd>
            </>
          )}
        </dl>
      </form>
    </Panel>
  );
}
