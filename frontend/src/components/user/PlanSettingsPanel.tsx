import { useEffect, useId, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';
import { useCanChange } from '../../lib/session.tsx';
import { errorText } from '../../lib/api-error.ts';
import { formatThreshold, parseThresholdPercent } from '../../lib/plan-window.ts';
import type { PlanSettings, User } from '../../lib/types.ts';
import { useAsync } from '../../lib/use-async.ts';
import { Alert } from '../Alert.tsx';
import { Panel } from '../Panel.tsx';

type Overage = PlanSettings['overage'];

const OVERAGE_LABELS: Record<Overage, string> = {
  move: 'Move to Bedrock',
  stay: 'Stay on Anthropic (their overage pays)',
};

/** The user's rule for leaving the Plan: their own switch threshold or the server's, and what paid overage does. */
export function PlanSettingsPanel({ user, onSaved }: { user: User; onSaved: () => void }) {
  const id = useId();
  const loaded = useAsync(() => api.planSettings(user.id), [user.id]);
  const [saved, setSaved] = useState<PlanSettings | undefined>(undefined);
  const [mode, setMode] = useState<'server' | 'own'>('server');
  const [percent, setPercent] = useState('');
  const [overage, setOverage] = useState<Overage>('move');
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const editable = useCanChange() && user.status !== 'deleted';

  useEffect(() => setSaved(loaded.data), [loaded.data]);
  // The form starts from the saved rule, and again after each save.
  useEffect(() => {
    if (!saved) return;
    setMode(saved.switch_threshold === null ? 'server' : 'own');
    setPercent(saved.switch_threshold === null ? '' : String(Number((saved.switch_threshold * 100).toFixed(2))));
    setOverage(saved.overage);
  }, [saved]);

  const parsed = mode === 'own' ? parseThresholdPercent(percent) : { value: null };
  // An invalid percent counts as a change, so Save says what is wrong with it.
  const changed = saved !== undefined && (!('value' in parsed) || parsed.value !== saved.switch_threshold || overage !== saved.overage);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    if ('error' in parsed) {
      setMessage({ kind: 'error', text: parsed.error });
      return;
    }
    setBusy(true);
    try {
      const next = await api.setPlanSettings(user.id, { switch_threshold: parsed.value, overage });
      setSaved(next);
      setMessage({
        kind: 'success',
        text: `Saved: requests move to Bedrock when a window reaches ${formatThreshold(next.effective_threshold)}. Every proxy task uses it from its next request.`,
      });
      onSaved();
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="Switch rule" testId="plan-settings">
      {loaded.error && <Alert>{loaded.error}</Alert>}
      {saved && (
        <form onSubmit={submit} className="space-y-3">
          <p className="text-sm text-slate-700 dark:text-slate-200" data-testid="plan-effective-threshold">
            Moves to Bedrock at <strong className="tabular-nums">{formatThreshold(saved.effective_threshold)}</strong>{' '}
            {saved.switch_threshold === null ? '(server default)' : "(the user's own threshold)"} of a window, until it resets.
          </p>
          <fieldset className="space-y-2" disabled={!editable}>
            <legend className="label">Switch threshold</legend>
            <label className="flex items-center gap-2 text-sm">
              <input type="radio" name={`${id}-mode`} checked={mode === 'server'} onChange={() => setMode('server')} />
              Server default ({formatThreshold(saved.server_threshold)})
            </label>
            <label className="flex items-center gap-2 text-sm">
              <input type="radio" name={`${id}-mode`} checked={mode === 'own'} onChange={() => setMode('own')} />
              Own threshold
            </label>
            <div className="w-40 pl-6">
              <label htmlFor={`${id}-percent`} className="label">
                Threshold in %
              </label>
              <input
                id={`${id}-percent`}
                className="input"
                inputMode="decimal"
                placeholder="e.g. 90"
                value={percent}
                onChange={(e) => {
                  setPercent(e.target.value);
                  // Typing a percent means the user's own threshold.
                  setMode('own');
                }}
              />
            </div>
          </fieldset>
          <div>
            <label htmlFor={`${id}-overage`} className="label">
              When paid overage is available
            </label>
            <select id={`${id}-overage`} className="input" disabled={!editable} value={overage} onChange={(e) => setOverage(e.target.value as Overage)}>
              {(Object.keys(OVERAGE_LABELS) as Overage[]).map((o) => (
                <option key={o} value={o}>
                  {OVERAGE_LABELS[o]}
                </option>
              ))}
            </select>
          </div>
          {message && <Alert kind={message.kind}>{message.text}</Alert>}
          {editable && (
            <button type="submit" className="btn-primary" disabled={busy || !changed}>
              {busy ? 'Saving…' : 'Save switch rule'}
            </button>
          )}
          <p className="text-xs text-slate-500 dark:text-slate-400">
            Applies to <code>plan_first</code> routing. Anthropic's own warning is shown, never acted on; a window Anthropic rejects moves the user unless paid overage keeps them.
          </p>
        </form>
      )}
    </Panel>
  );
}
