/** Previous / next over a list the API pages with limit and offset. */
export function Pager({ offset, limit, total, onChange, label }: { offset: number; limit: number; total: number; onChange: (offset: number) => void; label: string }) {
  if (total === 0) return null;
  const last = Math.min(offset + limit, total);
  return (
    <nav aria-label={label} className="mt-3 flex flex-wrap items-center justify-between gap-2 text-sm">
      <p className="text-slate-600 dark:text-slate-300">
        {offset + 1}–{last} of {total}
      </p>
      <div className="flex gap-2">
        <button type="button" className="btn-secondary" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
          Previous page
        </button>
        <button type="button" className="btn-secondary" disabled={last >= total} onClick={() => onChange(offset + limit)}>
          Next page
        </button>
      </div>
    </nav>
  );
}
