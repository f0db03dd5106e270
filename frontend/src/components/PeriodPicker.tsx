import { useId } from 'react';
import { customRangeError, defaultCustomRange, type PeriodChoice, type PeriodKind } from '../lib/period.ts';

const KINDS: { kind: PeriodKind; label: string }[] = [
  { kind: 'day', label: 'Today' },
  { kind: 'week', label: 'This week' },
  { kind: 'month', label: 'This month' },
  { kind: 'custom', label: 'Custom' },
];

/** Day / week / month (as the server's TIMEZONE counts them) or two inclusive dates. */
export function PeriodPicker({ value, onChange, timeZone }: { value: PeriodChoice; onChange: (next: PeriodChoice) => void; timeZone: string }) {
  const id = useId();
  const error = value.kind === 'custom' ? customRangeError(value.start, value.end) : null;
  const choose = (kind: PeriodKind) => {
    if (kind !== 'custom') return onChange({ kind });
    onChange({ kind, ...defaultCustomRange(timeZone) });
  };
  return (
    <div className="flex flex-wrap items-end gap-3">
      <div>
        <label htmlFor={`${id}-period`} className="label">
          Period
        </label>
        <select id={`${id}-period`} className="input" value={value.kind} onChange={(e) => choose(e.target.value as PeriodKind)}>
          {KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </select>
      </div>
      {value.kind === 'custom' && (
        <>
          <div>
            <label htmlFor={`${id}-start`} className="label">
              From
            </label>
            <input id={`${id}-start`} type="date" className="input" value={value.start ?? ''} onChange={(e) => onChange({ ...value, start: e.target.value })} />
          </div>
          <div>
            <label htmlFor={`${id}-end`} className="label">
              To (inclusive)
            </label>
            <input id={`${id}-end`} type="date" className="input" value={value.end ?? ''} onChange={(e) => onChange({ ...value, end: e.target.value })} />
          </div>
          {error && (
            <p role="alert" className="basis-full text-sm text-red-700 dark:text-red-400">
              {error}
            </p>
          )}
        </>
      )}
    </div>
  );
}
