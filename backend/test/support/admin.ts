import { request } from 'undici';
import { createAuditRepository, type AuditRow } from '../../src/db/audit-repository.ts';
import type { TestApp } from './app.ts';

export interface AdminResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // Tests read arbitrary JSON; each assertion states the shape it expects.
  body: any;
}

export type AdminCall = (method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string> }) => Promise<AdminResponse>;

/** An admin API client for one test app: JSON in and out, the given token (default: a fresh admin token). */
export async function adminClient(app: TestApp): Promise<AdminCall> {
  const defaultToken = await app.adminToken();
  return async (method, path, body, options = {}) => {
    const token = options.token === undefined ? defaultToken : options.token;
    const res = await request(`${app.url}${path}`, {
      method: method as 'GET',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.statusCode, headers: res.headers, body: parsed };
  };
}

/** The audit entries of a target, oldest first. */
export async function auditOf(app: TestApp, targetId: string): Promise<AuditRow[]> {
  const { items } = await createAuditRepository(app.database.db).list({ targetId }, { limit: 500, offset: 0 });
  return items.reverse();
}

/** Polls until `check` stops throwing (or the time is up, when its last error is thrown). */
export async function eventually<T>(check: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
    }
  }
}
