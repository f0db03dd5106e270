import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { accessKeyPrefix, createAccessKeyHasher, generateAccessKey, isAccessKeyFormat } from '../../../src/security/access-key.ts';
import { deriveJwtKey, signAdminToken, verifyAdminSession, type AdminCredentials } from '../../../src/security/jwt.ts';
import { hashPassword, isPasswordHash, verifyPassword } from '../../../src/security/passwords.ts';

/** The username a token's session names, or null. */
const verifyAdminToken = async (key: Uint8Array, token: string, admin: AdminCredentials) => (await verifyAdminSession(key, token, admin))?.username ?? null;

describe('access keys', () => {
  it('are ak_ + 32 random bytes in base64url', () => {
    const keys = new Set(Array.from({ length: 50 }, generateAccessKey));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
      expect(isAccessKeyFormat(key)).toBe(true);
      expect(accessKeyPrefix(key)).toBe(key.slice(0, 11));
    }
  });

  it('are stored as HMAC-SHA256 hex keyed with the secret', () => {
    const key = generateAccessKey();
    const hash = createAccessKeyHasher('secret-one-0123456789abcdef012345')(key);
    expect(hash).toBe(createHmac('sha256', 'secret-one-0123456789abcdef012345').update(key).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(createAccessKeyHasher('secret-two-0123456789abcdef012345')(key)).not.toBe(hash);
  });
});

describe('admin passwords', () => {
  it('are salted scrypt hashes that verify only the right password', async () => {
    const a = await hashPassword('hunter2');
    const b = await hashPassword('hunter2');
    expect(a).not.toBe(b);
    expect(isPasswordHash(a)).toBe(true);
    expect(a).not.toContain('hunter2');
    expect(await verifyPassword('hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter3', a)).toBe(false);
    expect(await verifyPassword('hunter2', 'plain-text')).toBe(false);
  });
});

describe('admin tokens', () => {
  const key = deriveJwtKey('k'.repeat(40));
  const admin = { username: 'admin', passwordHash: 'scrypt$32768$8$1$c2FsdA==$aGFzaA==' };
  it('verify with the same derived key and carry the admin', async () => {
    const { token, expiresAt } = await signAdminToken(key, admin);
    expect(await verifyAdminToken(key, token, admin)).toBe('admin');
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: 'claude-code-proxy', aud: 'claude-code-proxy-admin', sub: 'admin', cfp: expect.stringMatching(/^[\w-]{22}$/) });
    expect(JSON.stringify(payload)).not.toContain(admin.passwordHash);
  });

  it('fail with another key, when tampered with, and when expired', async () => {
    const { token } = await signAdminToken(key, admin);
    expect(await verifyAdminToken(deriveJwtKey('z'.repeat(40)), token, admin)).toBeNull();
    expect(await verifyAdminToken(deriveJwtKey('k'.repeat(40), 'explicit-jwt-secret-0123456789abcdef'), token, admin)).toBeNull();
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'root' })).toString('base64url');
    expect(await verifyAdminToken(key, `${h}.${forged}.${s}`, admin)).toBeNull();
    const old = await signAdminToken(key, admin, new Date(Date.now() - 13 * 3600_000));
    expect(await verifyAdminToken(key, old.token, admin)).toBeNull();
  });

  it('fail once the admin username or password hash changes, and without the credential claim', async () => {
    const { token } = await signAdminToken(key, admin);
    expect(await verifyAdminToken(key, token, { ...admin, passwordHash: `${admin.passwordHash}x` })).toBeNull();
    expect(await verifyAdminToken(key, token, { ...admin, username: 'root' })).toBeNull();
    expect(await verifyAdminToken(key, token, { ...admin })).toBe('admin');
    const bare = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').setJti('j').setIssuer('claude-code-proxy').setAudience('claude-code-proxy-admin').setExpirationTime('1h').sign(key);
    expect(await verifyAdminToken(key, bare, admin)).toBeNull();
  });

  it('derive a stable key, so every task and restart accepts the same tokens', () => {
    expect(Buffer.from(deriveJwtKey('k'.repeat(40)))).toEqual(Buffer.from(deriveJwtKey('k'.repeat(40))));
  });
});
