/** One labelled figure of a definition list (`<dl>`): a panel's small facts beside its chart or bar. */
export function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-slate-600 dark:text-slate-300">{label}</dt>
      <dd className="font-semibold tabular-nums">{value}</dd>
    </div>
  );
}
