import type { ReactNode } from 'react';

/** A titled section of a page (h2), optionally marked for tests. */
export function Panel({ title, testId, actions, children }: { title: string; testId?: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section data-testid={testId} className="card min-w-0" aria-label={title}>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-base font-semibold">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}
