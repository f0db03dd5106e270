import type { Globals } from './context.ts';

// Output: a plain-text table for people, the API's JSON with --json.

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

export function out(g: Globals, value: unknown, human: string): void {
  process.stdout.write(`${g.json ? JSON.stringify(value, null, 2) : human}\n`);
}

/** A 0–1 fraction as a percentage, to a tenth at most: 0.42 → 42%, 0.975 → 97.5%. */
export function percent(fraction: number | null | undefined): string {
  return typeof fraction === 'number' ? `${Math.round(fraction * 1000) / 10}%` : '?';
}

/**
 * An instant as a wall clock in the server's TIMEZONE, as the status line shows it: `14:00` today,
 * `Mon 09:00` within the coming week, else `2026-11-30 09:00`.
 */
export function clock(iso: string, timeZone: string, now = Date.now()): string {
  const at = new Date(iso);
  const day = (d: Date | number) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(d);
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  if (day(at) === day(now)) return hm;
  const ahead = at.getTime() - now;
  if (ahead > 0 && ahead < 6 * 86_400_000) return `${new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short' }).format(at)} ${hm}`;
  return `${day(at)} ${hm}`;
}
