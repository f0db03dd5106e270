// Report periods as the server counts them: days, weeks (from Monday) and months in its TIMEZONE.
// "day", "week" and "month" are resolved by the server; a custom range is two inclusive calendar
// days in TIMEZONE. Calendar days are handled as YYYY-MM-DD strings, so the viewer's own time zone
// never shifts them.

export type PeriodKind = 'day' | 'week' | 'month' | 'custom';
export interface PeriodChoice {
  kind: PeriodKind;
  /** custom only: YYYY-MM-DD, inclusive */
  start?: string;
  end?: string;
}
export type Bucket = 'hour' | 'day' | 'month';

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Today's date (YYYY-MM-DD) in the time zone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function toUtcMs(date: string): number | null {
  const m = DATE_RE.exec(date);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Rejects 2026-02-30 and the like, which Date.UTC would roll over.
  return new Date(ms).toISOString().slice(0, 10) === date ? ms : null;
}

export function isDate(text: string): boolean {
  return toUtcMs(text) !== null;
}

/** A calendar day plus n days. */
export function addDays(date: string, n: number): string {
  const ms = toUtcMs(date);
  if (ms === null) throw new Error(`not a date: ${date}`);
  return new Date(ms + n * DAY_MS).toISOString().slice(0, 10);
}

/** Days from a to b inclusive (a == b → 1). */
export function daysInclusive(a: string, b: string): number {
  const x = toUtcMs(a);
  const y = toUtcMs(b);
  if (x === null || y === null) return 0;
  return Math.round((y - x) / DAY_MS) + 1;
}

/** What a custom range starts as: the last 30 days up to today in TIMEZONE. */
export function defaultCustomRange(timeZone: string, now: Date = new Date()): { start: string; end: string } {
  const end = todayIn(timeZone, now);
  return { start: addDays(end, -29), end };
}

/** Hours for up to two days, days up to about a quarter, months beyond (the server caps hours at 31 days). */
export function chooseBucket(start: string, end: string): Bucket {
  const days = daysInclusive(start, end);
  if (days <= 2) return 'hour';
  if (days <= 92) return 'day';
  return 'month';
}

/** Why a custom range cannot be asked for, or null when it can. */
export function customRangeError(start: string | undefined, end: string | undefined): string | null {
  if (!start || !isDate(start)) return 'Choose a start date.';
  if (!end || !isDate(end)) return 'Choose an end date.';
  if (end < start) return 'The end date must not be before the start date.';
  if (daysInclusive(start, end) > 3700) return 'A range may span at most 3700 days.';
  return null;
}

/** The query parameters of /admin/usage* for a choice (null: the custom range is not valid yet). */
export function periodQuery(choice: PeriodChoice): Record<string, string> | null {
  if (choice.kind !== 'custom') return { period: choice.kind };
  if (customRangeError(choice.start, choice.end)) return null;
  return { start_date: choice.start!, end_date: choice.end! };
}

/** The bucket to ask /admin/usage for (the server's default for the fixed periods). */
export function bucketFor(choice: PeriodChoice): Bucket | undefined {
  return choice.kind === 'custom' && choice.start && choice.end ? chooseBucket(choice.start, choice.end) : undefined;
}

/** The last day of a period whose end is exclusive ("2026-12-01T00:00:00+09:00" → "2026-11-30"). */
export function inclusiveEndDate(exclusiveEnd: string): string {
  const date = exclusiveEnd.slice(0, 10);
  const time = exclusiveEnd.slice(11, 19);
  return !time || time === '00:00:00' ? addDays(date, -1) : date;
}

/** "2026-11-23 – 2026-11-29 (Asia/Seoul)", or one day alone. */
export function describePeriod(period: { start: string; end: string; timezone: string }): string {
  const first = period.start.slice(0, 10);
  const last = inclusiveEndDate(period.end);
  return `${first === last ? first : `${first} – ${last}`} (${period.timezone})`;
}

/**
 * A chart's axis label for a bucket start the server wrote in TIMEZONE wall time
 * ("2026-11-25T13:00:00+09:00"): the wall time is read as written, never converted.
 */
export function bucketLabel(start: string, bucket: Bucket, spansDays: boolean): string {
  const date = start.slice(0, 10);
  const monthDay = date.slice(5);
  if (bucket === 'month') return date.slice(0, 7);
  if (bucket === 'day') return monthDay;
  const hour = start.slice(11, 16);
  return spansDays ? `${monthDay} ${hour}` : hour;
}
