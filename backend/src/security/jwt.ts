import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
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

/** The admin login the server runs with (secrets.ts): tokens are bound to it. */
export interface AdminCredentials {
  username: string;
  passwordHash: string;
}

/**
 * A MAC of the admin's username and password hash under the token key, truncated: carried in every
 * token (`cfp`), so changing ADMIN_CREDENTIALS ends every session minted before, on every task.
 */
function credentialFingerprint(key: Uint8Array, admin: AdminCredentials): string {
  return createHmac('sha256', key).update('admin-credentials\0').update(admin.username).update('\0').update(admin.passwordHash).digest().subarray(0, 16).toString('base64url');
}

export async function signAdminToken(key: Uint8Array, admin: AdminCredentials, now = new Date()): Promise<AdminToken> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + TOKEN_LIFETIME_SECONDS) * 1000);
  const id = randomUUID();
  const token = await new SignJWT({ cfp: credentialFingerprint(key, admin) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(admin.username)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(id)
    .setIssuedAt(issuedAt)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key);
  return { token, expiresAt, id };
}

/**
 * The session a token carries, or null for any invalid, expired or foreign token, one without an
 * id, or one minted for other admin credentials than `admin`.
 */
export async function verifyAdminSession(key: Uint8Array, token: string, admin: AdminCredentials): Promise<AdminSession | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp', 'jti', 'sub', 'cfp'] });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number' || typeof payload.cfp !== 'string') return null;
    const expected = Buffer.from(credentialFingerprint(key, admin));
    const carried = Buffer.from(payload.cfp);
    if (payload.sub !== admin.username || carried.length !== expected.length || !timingSafeEqual(carried, expected)) return null;
    return { username: payload.sub, id: payload.jti, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return null;
  }
}
