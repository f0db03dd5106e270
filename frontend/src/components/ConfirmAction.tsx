import { useEffect, useRef, useState, type ReactNode } from 'react';
import { errorText } from '../lib/api-error.ts';
import { Alert } from './Alert.tsx';

/**
 * A button for something that cannot be taken back: it first asks, in place (no browser dialog),
 * and says what failed if the server refuses.
 */
export function ConfirmAction({
  label,
  detail,
  confirmLabel,
  question,
  onConfirm,
  danger = true,
}: {
  label: string;
  /** Said to screen readers after the label, to tell like buttons apart ("Revoke" … "ak_12ab"). */
  detail?: string;
  confirmLabel: string;
  question: ReactNode;
  onConfirm: () => Promise<void>;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setAsking(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (!asking) {
    return (
      <button type="button" className={`${danger ? 'btn-danger' : 'btn-secondary'} whitespace-nowrap`} onClick={() => setAsking(true)}>
        {label}
        {detail && <span className="sr-only"> {detail}</span>}
      </button>
    );
  }
  return (
    <div
      role="group"
      aria-label={`Confirm: ${label}${detail ? ` ${detail}` : ''}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) setAsking(false);
      }}
      className="rounded-md border border-red-200 bg-red-50 dark:bg-red-950 p-3 text-sm">
      <p className="mb-2 text-red-900">{question}</p>
      {error && (
        <div className="mb-2">
          <Alert>{error}</Alert>
        </div>
      )}
      <div className="flex flex-wrap gap-2">
        <button ref={confirmRef} type="button" className="btn-danger" disabled={busy} onClick={confirm}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" className="btn-secondary" disabled={busy} onClick={() => setAsking(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
