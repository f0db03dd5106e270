// What the dashboard shows while it loads: the shape of what is coming (a header, a title, cards,
// rows) in grey, rather than a bare "Loading…". Hidden from screen readers, which hear the
// status line instead.

function Bar({ className }: { className: string }) {
  return <div className={`animate-pulse rounded bg-slate-200 dark:bg-slate-800 ${className}`} />;
}

/** Grey rows where a table or list will be. */
export function LinesSkeleton({ rows = 6 }: { rows?: number }) {
  return (
    <div aria-hidden="true" className="space-y-2">
      {Array.from({ length: rows }, (_, i) => (
        <Bar key={i} className="h-6" />
      ))}
    </div>
  );
}

/** A row of stat cards, announced as loading. */
export function CardsSkeleton() {
  return (
    <>
      <p role="status" className="sr-only">
        Loading…
      </p>
      <div aria-hidden="true" className="grid grid-cols-2 gap-3 xl:grid-cols-4">
        {Array.from({ length: 4 }, (_, i) => (
          <div key={i} className="card space-y-2">
            <Bar className="h-4 w-24" />
            <Bar className="h-7 w-16" />
          </div>
        ))}
      </div>
    </>
  );
}

/** A page's title, a row of cards and a panel. */
export function PageSkeleton() {
  return (
    <div className="space-y-6">
      <Bar className="h-8 w-48" />
      <CardsSkeleton />
      <div aria-hidden="true" className="card">
        <LinesSkeleton />
      </div>
    </div>
  );
}

/** The whole app while the session is checked: the header's shape, then a page's. */
export function AppSkeleton() {
  return (
    <div className="min-h-screen">
      <div aria-hidden="true" className="border-b border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl items-center gap-6 px-4 py-4">
          <Bar className="h-5 w-52" />
          <Bar className="hidden h-5 w-96 sm:block" />
        </div>
      </div>
      <main className="mx-auto max-w-7xl px-4 py-6">
        <PageSkeleton />
      </main>
    </div>
  );
}
