import { createHmac, randomBytes } from 'node:crypto';

const ACCESS_KEY = /^ak_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 11; // "ak_" + 8 characters: enough to tell keys apart in a list, useless to an attacker

/** A new raw access key: "ak_" + 32 random bytes, base64url without padding. */
export function generateAccessKey(): string {
  return `ak_${randomBytes(32).toString('base64url')}`;
}

export function isAccessKeyFormat(raw: string): boolean {
  return ACCESS_KEY.test(raw);
}

export function accessKeyPrefix(raw: string): string {
  return raw.slice(0, PREFIX_LENGTH);
}

/** The stored form: HMAC-SHA256 keyed with KEY_HASHER_SECRET, lowercase hex. */
export function createAccessKeyHasher(secret: string): (raw: string) => string {
  return (raw) => createHmac('sha256', secret).update(raw).digest('hex');
}
