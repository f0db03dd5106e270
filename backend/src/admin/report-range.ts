import { formatZoned, type Granularity } from '../accounting/calendar.ts';
import { bucketStarts, ReportRangeError, resolveRange, type ReportRange } from '../accounting/reports.ts';
import { AdminError } from './errors.ts';

// The period of a usage report as the query string gives it, in TIMEZONE (accounting/reports.ts),
// with a 400 naming the field when it cannot be: one reading for every report route.

export type RangeParams = { period?: 'day' | 'week' | 'month'; start_date?: string; end_date?: string };

function asAdminError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ReportRangeError) throw new AdminError(400, 'invalid_request_error', `${err.field}: ${err.message}`);
    throw err;
  }
}

export function reportRange(q: RangeParams, timeZone: string): ReportRange {
  return asAdminError(() => resolveRange({ period: q.period, startDate: q.start_date, endDate: q.end_date }, new Date(), timeZone));
}

/** The report's buckets: the one asked for, else hours for a day (asked for, or the default range) and days for anything longer. */
export function reportBuckets<B extends Granularity>(q: RangeParams & { bucket?: B }, r: ReportRange, timeZone: string): { bucket: B | 'hour' | 'day'; starts: Date[] } {
  const oneDay = q.period === 'day' || (q.period === undefined && q.start_date === undefined);
  const bucket = q.bucket ?? (oneDay ? 'hour' : 'day');
  return { bucket, starts: asAdminError(() => bucketStarts(r, bucket, timeZone)) };
}

export function periodJson(r: ReportRange, timeZone: string): { start: string; end: string; timezone: string } {
  return { start: formatZoned(r.start, timeZone), end: formatZoned(r.end, timeZone), timezone: timeZone };
}
