/**
 * What makes a configured secret too weak for prod and staging (config.ts refuses to start with
 * one). Each check returns why, or null. They catch defaults, placeholders and keyboard patterns,
 * not a well-chosen weak phrase: nothing here can tell that.
 */

/** Whether the text is one short unit repeated ("abcabcabc…"): as guessable as the unit. */
function isRepetition(text: string): boolean {
  for (let unit = 1; unit <= text.length / 2; unit++) {
    let repeats = true;
    for (let i = unit; i < text.length && repeats; i++) repeats = text[i] === text[i - unit];
    if (repeats) return true;
  }
  return false;
}

/** Bits by the text's own character frequencies (Shannon): a random 32-character hex string has ~115. */
function estimatedBits(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / text.length) * Math.log2(n / text.length);
  return perChar * text.length;
}

const MIN_SECRET_LENGTH = 32;
const MIN_SECRET_BITS = 80;
const MIN_PASSWORD_LENGTH = 12;
const MIN_PASSWORD_DISTINCT = 6;
const MIN_KEY_DISTINCT_BYTES = 8;

/** KEY_HASHER_SECRET, JWT_SECRET. */
export function weakSecret(secret: string): string | null {
  if (secret.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters`;
  if (new Set(secret).size === 1) return 'is one character repeated';
  if (isRepetition(secret)) return 'is a short sequence repeated';
  if (estimatedBits(secret) < MIN_SECRET_BITS) return `has too little entropy (use e.g. \`openssl rand -base64 32\`)`;
  return null;
}

/** The admin password of ADMIN_CREDENTIALS (not checked when it is already a hash). */
export function weakAdminPassword(username: string, password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) return 'the password must not be the username';
  if (new Set(password).size < MIN_PASSWORD_DISTINCT) return `the password must have at least ${MIN_PASSWORD_DISTINCT} different characters`;
  if (isRepetition(password)) return 'the password must not be a short sequence repeated';
  return null;
}

/** LOCAL_ENCRYPTION_KEY (32 bytes). */
export function weakEncryptionKey(key: Uint8Array): string | null {
  const distinct = new Set(key).size;
  if (distinct === 1) return key[0] === 0 ? 'is all zero bytes' : 'is one byte repeated';
  if (distinct < MIN_KEY_DISTINCT_BYTES) return 'has too few different bytes to be random (use e.g. `openssl rand -base64 32`)';
  return null;
}
