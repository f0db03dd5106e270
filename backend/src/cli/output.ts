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
