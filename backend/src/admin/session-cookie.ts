/**
 * The dashboard's session: the admin JWT in a cookie that scripts cannot read (HttpOnly), that no
 * other site can make the browser send (SameSite=Strict), only over HTTPS when the request came
 * over HTTPS (Secure; behind the ALB that is X-Forwarded-Proto), and only to the admin API.
 */
export const SESSION_COOKIE = 'ccproxy_admin_session';
const COOKIE_PATH = '/admin';

export function sessionCookie(token: string, options: { maxAgeSeconds: number; secure: boolean }): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    `Path=${COOKIE_PATH}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Tells the browser to drop the cookie (logout). */
export function clearedSessionCookie(options: { secure: boolean }): string {
  return sessionCookie('', { maxAgeSeconds: 0, secure: options.secure });
}

/** The session token from a Cookie header, if there is one. */
export function readSessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}
