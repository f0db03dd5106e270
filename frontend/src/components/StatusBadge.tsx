import { STATUS_STYLES } from '../lib/labels.ts';

export function StatusBadge({ status }: { status: string }) {
  const style = STATUS_STYLES[status as keyof typeof STATUS_STYLES] ?? 'bg-slate-100 dark:bg-slate-800 text-slate-700 dark:text-slate-200';
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${style}`}>{status}</span>;
}
