/**
 * Calendar arithmetic in one IANA time zone (TIMEZONE): where hours, days, weeks and months start,
 * as UTC instants. Rollup buckets, report periods and budget months all come from here. Pure;
 * Intl supplies the zone rules, DST included.
 */

export type Granularity = 'hour' | 'day' | 'month';
export type CalendarUnit = Granularity | 'week';

interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset at `instant`, from Intl (slow: tens of microseconds). */
function offsetFromIntl(instant: number, timeZone: string): number {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * Offsets change only at whole quarter hours of UTC (every zone's offset is a multiple of 15
 * minutes, and so is every transition instant), so one Intl lookup per zone and quarter hour
 * serves every instant in it: the usage writer buckets thousands of events a second.
 */
const QUARTER_HOUR = 15 * 60_000;
const offsets = new Map<string, Map<number, number>>();

/** Milliseconds the zone is ahead of UTC at `instant` (Asia/Seoul: +9 h). */
function offsetAt(instant: number, timeZone: string): number {
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const slot = Math.floor(instant / QUARTER_HOUR);
  let offset = zone.get(slot);
  if (offset === undefined) {
    offset = offsetFromIntl(slot * QUARTER_HOUR, timeZone);
    if (zone.size >= 100_000) zone.clear();
    zone.set(slot, offset);
  }
  return offset;
}

export function wallTime(instant: Date, timeZone: string): WallTime {
  const local = new Date(Math.floor(instant.getTime() / 1000) * 1000 + offsetAt(instant.getTime(), timeZone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: (local.getUTCDay() + 6) % 7,
  };
}

/**
 * The instant a wall-clock time names in the zone. Out-of-range fields roll over (day 0 is the last
 * day of the previous month). A time skipped by a DST jump maps to the instant just after the
 * jump; a repeated one to its first occurrence.
 */
export function zonedInstant(timeZone: string, year: number, month: number, day = 1, hour = 0): Date {
  const wall = Date.UTC(year, month - 1, day, hour);
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  if (first === second) return new Date(first);
  // The offset changes near this wall time: take the earlier reading that names it, else the gap's end.
  const candidates = [first, second].filter((t) => t + offsetAt(t, timeZone) === wall).sort((a, b) => a - b);
  return new Date(candidates[0] ?? Math.max(first, second));
}

/** The start of the hour, day, ISO week (Monday) or month containing `instant`. */
export function startOf(instant: Date, unit: CalendarUnit, timeZone: string): Date {
  if (unit === 'hour') {
    // Truncating the instant (zones are offset by whole quarter hours) keeps the two 01:00 hours of
    // a DST fall-back apart.
    const w = wallTime(instant, timeZone);
    const t = Math.floor(instant.getTime() / 1000) * 1000;
    return new Date(t - (w.minute * 60 + w.second) * 1000);
  }
  const w = wallTime(instant, timeZone);
  if (unit === 'day') return zonedInstant(timeZone, w.year, w.month, w.day);
  if (unit === 'week') return zonedInstant(timeZone, w.year, w.month, w.day - w.weekday);
  return zonedInstant(timeZone, w.year, w.month, 1);
}

/** The start of the unit `n` units after the one starting at `start` (a unit start itself). */
export function addUnits(start: Date, unit: CalendarUnit, n: number, timeZone: string): Date {
  if (unit === 'hour') return new Date(start.getTime() + n * 3_600_000);
  const w = wallTime(start, timeZone);
  if (unit === 'day') return zonedInstant(timeZone, w.year, w.month, w.day + n);
  if (unit === 'week') return zonedInstant(timeZone, w.year, w.month, w.day + 7 * n);
  return zonedInstant(timeZone, w.year, w.month + n, 1);
}

/** Every unit start in [from, to), `from` being a unit start. */
export function unitStarts(from: Date, to: Date, unit: CalendarUnit, timeZone: string): Date[] {
  const out: Date[] = [];
  for (let t = from; t < to; t = addUnits(t, unit, 1, timeZone)) out.push(t);
  return out;
}

/** "YYYY-MM-DD" read as a day in the zone → its first instant; null when it is not a real date. */
export function parseLocalDate(text: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return zonedInstant(timeZone, year, month, day);
}

/** ISO 8601 with the zone's offset at that instant: "2026-11-01T00:00:00+09:00". */
export function formatZoned(instant: Date, timeZone: string): string {
  const w = wallTime(instant, timeZone);
  const offsetMinutes = Math.round(offsetAt(instant.getTime(), timeZone) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
