/** Target types the audit log filter accepts (backend/src/admin/audit.ts). */
export const AUDIT_TARGET_TYPES = ['admin_session', 'user', 'access_key', 'bedrock_key', 'model_mapping', 'circuit_breaker', 'model_price'] as const;

/** The instant a local calendar day starts (or, with `after`, the next one starts) in the viewer's time zone. */
export function localDayBoundary(date: string, after = false): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (after ? 1 : 0));
  return d.toISOString();
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
