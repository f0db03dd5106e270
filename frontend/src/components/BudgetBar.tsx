import { formatPercent, formatUsd } from '../lib/format.ts';

/** Spent (and held by running requests) against a monthly budget; red from 100 %, amber from 80 %. */
export function BudgetBar({ spent, reserved = '0', budget, label }: { spent: string; reserved?: string; budget: string | null; label: string }) {
  if (budget === null) return <span className="text-sm text-slate-500 dark:text-slate-400">No budget</span>;
  const limit = Number(budget);
  const used = Number(spent);
  const held = Number(reserved);
  const share = limit > 0 ? used / limit : used > 0 ? 1 : 0;
  const heldShare = limit > 0 ? held / limit : 0;
  const color = share >= 1 ? 'bg-red-600' : share >= 0.8 ? 'bg-amber-500' : 'bg-emerald-600';
  return (
    <div className="min-w-32">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(Math.min(share, 1) * 100)}
        aria-valuetext={`${formatPercent(share)} of ${formatUsd(budget)} used`}
        className="flex h-2 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
      >
        <div className={color} style={{ width: `${Math.min(share, 1) * 100}%` }} />
        <div className="bg-slate-400" style={{ width: `${Math.min(heldShare, Math.max(0, 1 - share)) * 100}%` }} />
      </div>
      <p className="mt-1 text-xs text-slate-600 dark:text-slate-300 tabular-nums">
        {formatUsd(spent)} of {formatUsd(budget)} ({formatPercent(share)})
      </p>
    </div>
  );
}
