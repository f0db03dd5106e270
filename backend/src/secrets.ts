import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEncryptionKey, type Config } from './config.ts';
import { hashPassword, isPasswordHash } from './security/passwords.ts';

/** The secrets the server runs with, after dev defaults are filled in. Only hashes of passwords. */
export interface Secrets {
  keyHasherSecret: string;
  jwtSecret: string | undefined;
  admin: { username: string; passwordHash: string };
  /** Wraps the data keys of stored Bedrock keys when KMS_KEY_ID is unset (32 bytes). */
  localEncryptionKey?: Buffer | undefined;
}

interface DevSecretsFile {
  keyHasherSecret?: string;
  localEncryptionKey?: string;
  admin?: { username: string; passwordHash: string };
}

/**
 * Outside dev every secret comes from the environment (config validation guarantees it). In dev,
 * missing ones are generated once into DATA_DIR/dev-secrets.json (mode 600); a generated admin
 * password is handed to `announce` exactly once, since only its hash is kept.
 */
export async function resolveSecrets(config: Config, announce: (message: string) => void): Promise<Secrets> {
  const file = path.join(config.dataDir, 'dev-secrets.json');
  const stored: DevSecretsFile = config.environment === 'dev' && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  let changed = false;

  let keyHasherSecret = config.keyHasherSecret;
  if (!keyHasherSecret) {
    if (config.environment !== 'dev') throw new Error('KEY_HASHER_SECRET: required');
    if (!stored.keyHasherSecret) {
      stored.keyHasherSecret = randomBytes(32).toString('base64url');
      changed = true;
      announce(`Generated KEY_HASHER_SECRET into ${file}`);
    }
    keyHasherSecret = stored.keyHasherSecret;
  }

  // Dev generates a local key unless KMS wraps the data keys; one generated earlier stays in use, so
  // Bedrock keys stored with it keep decrypting.
  let localEncryptionKey = config.localEncryptionKey;
  if (!localEncryptionKey && config.environment === 'dev') {
    if (!stored.localEncryptionKey && !config.kmsKeyId) {
      stored.localEncryptionKey = randomBytes(32).toString('base64');
      changed = true;
      announce(`Generated LOCAL_ENCRYPTION_KEY into ${file}`);
    }
    if (stored.localEncryptionKey) localEncryptionKey = parseEncryptionKey(stored.localEncryptionKey);
  }
  if (!localEncryptionKey && !config.kmsKeyId) throw new Error('LOCAL_ENCRYPTION_KEY: required unless KMS_KEY_ID is set');

  let admin: Secrets['admin'];
  if (config.adminCredentials) {
    const { username, password } = config.adminCredentials;
    // ADMIN_CREDENTIALS may carry a hash from `ccproxy admin hash-password` instead of the password.
    // A plain one is hashed with a salt from KEY_HASHER_SECRET: every task and restart gets the same
    // hash, which admin tokens are bound to (security/jwt.ts), so only a real change ends sessions.
    const salt = createHmac('sha256', keyHasherSecret).update(`admin-password-salt\0${username}`).digest().subarray(0, 16);
    admin = { username, passwordHash: isPasswordHash(password) ? password : await hashPassword(password, salt) };
  } else {
    if (config.environment !== 'dev') throw new Error('ADMIN_CREDENTIALS: required');
    if (!stored.admin) {
      const password = randomBytes(18).toString('base64url');
      stored.admin = { username: 'admin', passwordHash: await hashPassword(password) };
      changed = true;
      announce(
        `Generated the admin login (shown only this once): username "admin", password "${password}". ` +
          `Set ADMIN_CREDENTIALS to choose your own.`,
      );
    }
    admin = stored.admin;
  }

  if (changed) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return { keyHasherSecret, jwtSecret: config.jwtSecret, admin, localEncryptionKey };
}
