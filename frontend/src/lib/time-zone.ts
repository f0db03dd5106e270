// Instants shown and typed in the server's TIMEZONE (one zone on every page, README "Dashboard"),
// whatever the viewer's browser is set to.

function wallParts(ms: number, timeZone: string | undefined): Record<string, number> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const out: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, timeZone: string): number {
  const p = wallParts(ms, timeZone);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/;

/**
 * The instant (ISO, UTC) of a wall time in the zone: "2026-11-25T13:00" or a day's start
 * "2026-11-25"; undefined when the text is not one.
 */
export function zonedInstant(local: string, timeZone: string): string | undefined {
  const m = LOCAL_RE.exec(local);
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  if (Number.isNaN(wall)) return undefined;
  // Two passes: the offset at the first guess, then at the instant it gives (a DST change between).
  let ms = wall - offsetAt(wall, timeZone);
  ms = wall - offsetAt(ms, timeZone);
  return new Date(ms).toISOString();
}

/** An instant's wall time in the zone (undefined: the viewer's) as "2026-11-25<separator>13:04". */
export function wallTime(ms: number, timeZone: string | undefined, separator: string): string {
  const p = wallParts(ms, timeZone);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}${separator}${two(p.hour)}:${two(p.minute)}`;
}

/** An instant as the value of a datetime-local input in the zone ("2026-11-25T13:04"). */
export function zonedLocalInput(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '' : wallTime(ms, timeZone, 'T');
}

/** The calendar day after a YYYY-MM-DD day (an inclusive "to" day's exclusive end). */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
