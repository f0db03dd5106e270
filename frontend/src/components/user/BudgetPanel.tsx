import { useId, useState, type FormEvent } from 'react';
import { api } from '../../lib/api.ts';
import { errorText } from '../../lib/api-error.ts';
import { formatDateTime, formatUsd, trimDecimal } from '../../lib/format.ts';
import { inclusiveEndDate } from '../../lib/period.ts';
import { useCanChange } from '../../lib/session.tsx';
import type { BudgetStatus, User } from '../../lib/types.ts';
import { useAsync } from '../../lib/use-async.ts';
import { Alert } from '../Alert.tsx';
import { BudgetBar } from '../BudgetBar.tsx';
import { Panel } from '../Panel.tsx';
import { Figure } from '../Figure.tsx';

/**
 * The monthly Bedrock budget: where this month stands, and setting or removing it (admins). `load`:
 * where the status comes from (default the admin route for `user`; the developer page reads its own).
 */
export function BudgetPanel({ user, load }: { user: User; load?: () => Promise<BudgetStatus> }) {
  const id = useId();
  const budget = useAsync(() => (load ? load() : api.budget(user.id)), [user.id, load]);
  const canChange = useCanChange() && load === undefined;
  const [amount, setAmount] = useState(user.monthly_budget_usd === null ? '' : trimDecimal(user.monthly_budget_usd));
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const editable = canChange && user.status !== 'deleted';

  const save = async (value: string | null) => {
    setBusy(true);
    setMessage(null);
    try {
      await api.setBudget(user.id, value);
      budget.reload();
      if (value === null) setAmount('');
      setMessage({ kind: 'success', text: value === null ? 'Budget removed: Bedrock traffic is not capped.' : 'Budget saved. Every task enforces it from its next request.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(amount.trim());
  };

  const b = budget.data;
  return (
    <Panel title="Monthly Bedrock budget" testId="budget">
      {budget.error && <Alert>{budget.error}</Alert>}
      {b && (
        <div className="mb-4 space-y-3">
          <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
            <Figure label="Budget" value={b.monthly_budget_usd === null ? 'None' : formatUsd(b.monthly_budget_usd)} />
            <Figure label="Spent" value={formatUsd(b.spent_usd)} />
            <Figure label="Reserved (running)" value={formatUsd(b.reserved_usd)} />
            <Figure label="Remaining" value={b.remaining_usd === null ? 'Unlimited' : formatUsd(b.remaining_usd)} />
          </dl>
          <BudgetBar spent={b.spent_usd} reserved={b.reserved_usd} budget={b.monthly_budget_usd} label="Budget used this month" />
          <p className="text-xs text-slate-500 dark:text-slate-400">
            {b.period_start.slice(0, 10)} – {inclusiveEndDate(b.period_end)} ({b.timezone}); resets {formatDateTime(b.period_end, b.timezone)}. Plan traffic is paid
            by the user's subscription and never counts.
          </p>
        </div>
      )}
      {editable && (
        <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
          <div className="w-48">
            <label htmlFor={`${id}-amount`} className="label">
              Budget in USD per month
            </label>
            <input id={`${id}-amount`} className="input" inputMode="decimal" placeholder="e.g. 250" value={amount} onChange={(e) => setAmount(e.target.value)} />
          </div>
          <button type="submit" className="btn-primary" disabled={busy || !amount.trim()}>
            Save budget
          </button>
          {b?.monthly_budget_usd !== null && b !== undefined && (
            <button type="button" className="btn-secondary" disabled={busy} onClick={() => void save(null)}>
              Remove budget
            </button>
          )}
        </form>
      )}
      {message && (
        <div className="mt-3">
          <Alert kind={message.kind}>{message.text}</Alert>
        </div>
      )}
    </Panel>
  );
}
