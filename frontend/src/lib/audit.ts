import { nextDay, zonedInstant } from './time-zone.ts';

/** Target types the audit log filter accepts (backend/src/admin/audit.ts). */
export const AUDIT_TARGET_TYPES = ['admin_session', 'user', 'access_key', 'bedrock_key', 'model_mapping', 'circuit_breaker', 'model_price'] as const;

/** The instant a calendar day starts (or, with `after`, the next one starts) in the time zone (the server's TIMEZONE). */
export function dayBoundary(date: string, timeZone: string, after = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  return zonedInstant(after ? nextDay(date) : date, timeZone);
}

/** Fields whose value differs between before and after, for a one-line summary of a change. */
export function changedFields(before: unknown, after: unknown): string[] {
  const a = isRecord(before) ? before : {};
  const b = isRecord(after) ? after : {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
