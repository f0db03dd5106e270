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

/** Who may do what in the admin API (admin/roles.ts). */
export const ROLES = ['admin', 'viewer', 'developer'] as const;
export type Role = (typeof ROLES)[number];

/** A verified admin token. */
export interface AdminSession {
  /** The signed-in person (the break-glass admin's username, or an identity provider's email). */
  username: string;
  id: string;
  /** When it was minted (a person's session predating their SCIM deletion ends: admin/auth.ts). */
  issuedAt: Date;
  expiresAt: Date;
  role: Role;
  /** The user this person is (developers' own routes act on it); null for the break-glass admin. */
  userId: string | null;
  /** How it was made: the break-glass password, the identity provider, or an automation token (admin/api-tokens.ts). */
  via: 'password' | 'idp' | 'token';
}

/** A session for someone other than the break-glass admin (signed in with the identity provider). */
export interface PersonIdentity {
  username: string;
  role: Role;
  userId: string | null;
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
  return sign(key, admin.username, { cfp: credentialFingerprint(key, admin), role: 'admin' }, now);
}

/**
 * A session for a person the identity provider vouched for: it carries their role and user, and no
 * credential fingerprint (changing ADMIN_CREDENTIALS does not concern them; logout revokes it).
 */
export async function signPersonToken(key: Uint8Array, person: PersonIdentity, now = new Date()): Promise<AdminToken> {
  return sign(key, person.username, { role: person.role, uid: person.userId, idp: true }, now);
}

async function sign(key: Uint8Array, subject: string, claims: Record<string, unknown>, now: Date): Promise<AdminToken> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + TOKEN_LIFETIME_SECONDS) * 1000);
  const id = randomUUID();
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(id)
    .setIssuedAt(issuedAt)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key);
  return { token, expiresAt, id };
}

const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * The session a token carries, or null for any invalid, expired or foreign token, one without an
 * id, one minted for other admin credentials than `admin`, or a person's token without a known role.
 */
export async function verifyAdminSession(key: Uint8Array, token: string, admin: AdminCredentials): Promise<AdminSession | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp', 'jti', 'sub'] });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return null;
    const issuedAt = new Date((typeof payload.iat === 'number' ? payload.iat : payload.exp - TOKEN_LIFETIME_SECONDS) * 1000);
    const base = { username: payload.sub, id: payload.jti, issuedAt, expiresAt: new Date(payload.exp * 1000) };
    if (payload.idp === true) {
      if (!isRole(payload.role) || (payload.uid !== null && typeof payload.uid !== 'string')) return null;
      return { ...base, role: payload.role, userId: payload.uid, via: 'idp' };
    }
    // The break-glass admin's token (tokens minted before roles carry no role claim: they are admin's too).
    if (typeof payload.cfp !== 'string') return null;
    const expected = Buffer.from(credentialFingerprint(key, admin));
    const carried = Buffer.from(payload.cfp);
    if (payload.sub !== admin.username || carried.length !== expected.length || !timingSafeEqual(carried, expected)) return null;
    return { ...base, role: 'admin', userId: null, via: 'password' };
  } catch {
    return null;
  }
}
