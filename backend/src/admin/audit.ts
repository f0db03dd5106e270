import type { FastifyRequest } from 'fastify';
import type { AUDIT_TARGET_TYPES } from './schemas.ts';

/** Who made a change and from where: the admin of a request, or the server itself. */
export interface AuditContext {
  actor: string;
  ip: string | null;
  requestId: string | null;
}

/** What an audit entry can be about (also the audit log's `target_type` filter). */
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** One audit entry as a route states it; the context and time are added when it is written. */
export interface AuditEntry {
  /** `<target type>.<verb>`, e.g. `user.deactivate`, `access_key.rotate`. */
  action: string;
  targetType: AuditTargetType;
  targetId: string | null;
  /** The target's public view before and after (null where it did not exist). */
  before: unknown;
  after: unknown;
}

export const SYSTEM_ACTOR: AuditContext = { actor: 'system', ip: null, requestId: null };

/** The admin behind a request (set by the auth guard), its client address (behind the ALB: X-Forwarded-For) and request id. */
export function auditContext(request: FastifyRequest): AuditContext {
  return { actor: request.admin ?? 'anonymous', ip: request.ip || null, requestId: request.id };
}

// Field names that hold, or could hold, a secret. Entries are built from the API's public views,
// which carry none; this is the second line, so a future field cannot leak by accident.
const SECRET_FIELD = /(^|_)(raw_key|key_hash|password|password_hash|secret|token|access_token|bedrock_api_key|encrypted_key|api_key)$/i;

/** A deep copy without secret-named fields; values that are not JSON-like are dropped. */
export function scrubSecrets(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELD.test(k) || v === undefined) continue;
      out[k] = scrubSecrets(v);
    }
    return out;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}
