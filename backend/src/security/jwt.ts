import { hkdfSync, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

const ISSUER = 'claude-code-proxy';
const AUDIENCE = 'claude-code-proxy-admin';
export const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

/** HS256 key: JWT_SECRET when set, else HKDF-SHA256 of KEY_HASHER_SECRET (stable across restarts and tasks). */
export function deriveJwtKey(keyHasherSecret: string, jwtSecret?: string): Uint8Array {
  if (jwtSecret) return new TextEncoder().encode(jwtSecret);
  return new Uint8Array(hkdfSync('sha256', keyHasherSecret, 'claude-code-proxy', 'admin-jwt-hs256', 32));
}

export interface AdminToken {
  token: string;
  expiresAt: Date;
  /** The token's id (`jti`): what logout revokes. */
  id: string;
}

/** A verified admin token. */
export interface AdminSession {
  username: string;
  id: string;
  expiresAt: Date;
}

export async function signAdminToken(key: Uint8Array, username: string, now = new Date()): Promise<AdminToken> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + TOKEN_LIFETIME_SECONDS) * 1000);
  const id = randomUUID();
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(username)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(id)
    .setIssuedAt(issuedAt)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key);
  return { token, expiresAt, id };
}

/** The session a token carries, or null for any invalid, expired or foreign token (or one without an id). */
export async function verifyAdminSession(key: Uint8Array, token: string): Promise<AdminSession | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp', 'jti', 'sub'] });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return null;
    return { username: payload.sub, id: payload.jti, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return null;
  }
}

/** The admin's username, or null for any invalid, expired or foreign token. */
export async function verifyAdminToken(key: Uint8Array, token: string): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}
