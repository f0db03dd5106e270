import type { ReactNode } from 'react';

/** One figure of a period; `tone: 'bad'` colours a figure that needs attention (errors). */
export function StatCard({ testId, label, value, detail, tone }: { testId: string; label: string; value: ReactNode; detail?: ReactNode; tone?: 'bad' }) {
  return (
    <div data-testid={testId} className="card">
      <p className="text-sm text-slate-600 dark:text-slate-300">{label}</p>
      <p className={`mt-1 text-2xl font-semibold tabular-nums ${tone === 'bad' ? 'text-red-700 dark:text-red-400' : ''}`}>{value}</p>
      {detail && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{detail}</p>}
    </div>
  );
}
