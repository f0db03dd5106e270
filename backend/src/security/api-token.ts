import { createHash, randomBytes } from 'node:crypto';

// Automation tokens (README "Sign-in and roles"): "ccp_" + 32 random bytes. Stored as SHA-256: with
// 256 random bits there is nothing to guess, so no salt, slow hash or server secret is needed, and
// the hash is what the database looks the token up by.

const API_TOKEN = /^ccp_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12; // "ccp_" + 8 characters: tells tokens apart in a list

export function generateApiToken(): string {
  return `ccp_${randomBytes(32).toString('base64url')}`;
}

export function isApiTokenFormat(raw: string): boolean {
  return API_TOKEN.test(raw);
}

export function apiTokenPrefix(raw: string): string {
  return raw.slice(0, PREFIX_LENGTH);
}

/** The stored form: SHA-256, lowercase hex. */
export function hashApiToken(raw: string): string {
  return createHash('sha256').update(raw).digest('hex');
}
