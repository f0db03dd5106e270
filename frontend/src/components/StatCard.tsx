import type { ReactNode } from 'react';

export function StatCard({ testId, label, value, detail }: { testId: string; label: string; value: ReactNode; detail?: ReactNode }) {
  return (
    <div data-testid={testId} className="card">
      <p className="text-sm text-slate-600">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      {detail && <p className="mt-1 text-xs text-slate-500">{detail}</p>}
    </div>
  );
}
