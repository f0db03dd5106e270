import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { resolveSecrets } from '../../src/secrets.ts';
import { verifyPassword } from '../../src/security/passwords.ts';
import { weakAdminPassword, weakEncryptionKey, weakSecret } from '../../src/security/secret-strength.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-secrets-'));
  dirs.push(dir);
  return dir;
};
const ADMIN = JSON.stringify({ username: 'admin', password: 'pw' });

describe('LOCAL_ENCRYPTION_KEY in dev', () => {
  it('is generated once into DATA_DIR/dev-secrets.json and reused', async () => {
    const dir = tmp();
    const said: string[] = [];
    const first = await resolveSecrets(loadConfig({ DATA_DIR: dir, ADMIN_CREDENTIALS: ADMIN }), (m) => said.push(m));
    expect(first.localEncryptionKey).toHaveLength(32);
    expect(said.some((m) => m.startsWith('Generated LOCAL_ENCRYPTION_KEY into'))).toBe(true);
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'dev-secrets.json'), 'utf8')) as { localEncryptionKey: string };
    expect(Buffer.from(stored.localEncryptionKey, 'base64')).toEqual(first.localEncryptionKey);
    expect(said.join('\n')).not.toContain(stored.localEncryptionKey);

    said.length = 0;
    const second = await resolveSecrets(loadConfig({ DATA_DIR: dir, ADMIN_CREDENTIALS: ADMIN }), (m) => said.push(m));
    expect(second.localEncryptionKey).toEqual(first.localEncryptionKey);
    expect(said).toEqual([]);
  });

  it('comes from the environment when set, and is not generated when KMS_KEY_ID is set', async () => {
    const env = await resolveSecrets(loadConfig({ DATA_DIR: tmp(), ADMIN_CREDENTIALS: ADMIN, LOCAL_ENCRYPTION_KEY: 'cd'.repeat(32) }), () => {});
    expect(env.localEncryptionKey).toEqual(Buffer.from('cd'.repeat(32), 'hex'));
    const kms = await resolveSecrets(loadConfig({ DATA_DIR: tmp(), ADMIN_CREDENTIALS: ADMIN, KMS_KEY_ID: 'alias/proxy' }), () => {});
    expect(kms.localEncryptionKey).toBeUndefined();
  });
});

describe('a plain ADMIN_CREDENTIALS password', () => {
  it('hashes the same on every task and restart with the same KEY_HASHER_SECRET (admin tokens are bound to the hash)', async () => {
    const env = { ENVIRONMENT: 'test', KEY_HASHER_SECRET: GOOD.KEY_HASHER_SECRET, ADMIN_CREDENTIALS: GOOD.ADMIN_CREDENTIALS, KMS_KEY_ID: 'alias/proxy' };
    const a = await resolveSecrets(loadConfig({ ...env, DATA_DIR: tmp() }), () => {});
    const b = await resolveSecrets(loadConfig({ ...env, DATA_DIR: tmp() }), () => {});
    expect(b.admin).toEqual(a.admin);
    expect(await verifyPassword('a-long-admin-passphrase', a.admin.passwordHash)).toBe(true);
    const other = await resolveSecrets(loadConfig({ ...env, DATA_DIR: tmp(), KEY_HASHER_SECRET: `${GOOD.KEY_HASHER_SECRET}x` }), () => {});
    expect(other.admin.passwordHash).not.toBe(a.admin.passwordHash);
  });
});

// Strong values every check below starts from; each test weakens one.
const GOOD = {
  KEY_HASHER_SECRET: 'kF3q9vLx2RmT8wYp4NcZ7hJd1sGbQeUa6',
  JWT_SECRET: 'Zt7-Qm2xW9pLr4vKc8NbYh3sJd6fGa1eU0',
  ADMIN_CREDENTIALS: JSON.stringify({ username: 'admin', password: 'a-long-admin-passphrase' }),
  LOCAL_ENCRYPTION_KEY: 'ZgMzVv0hb3k2c1h4NPbK7W9j9xq8Yl0rT3mQ6wE2uHo=',
};
const admin = (password: string, username = 'admin') => JSON.stringify({ username, password });

describe('weak secrets in prod and staging', () => {
  it('start with strong values', () => {
    for (const ENVIRONMENT of ['prod', 'staging']) expect(() => loadConfig({ ENVIRONMENT, ...GOOD })).not.toThrow();
    // A hash from `ccproxy admin hash-password` is taken as it is: the password behind it cannot be judged.
    expect(() => loadConfig({ ENVIRONMENT: 'prod', ...GOOD, ADMIN_CREDENTIALS: admin('scrypt$32768$8$1$c2FsdHNhbHQ=$aGFzaGhhc2g=') })).not.toThrow();
  });

  it.each([
    ['a short admin password', { ADMIN_CREDENTIALS: admin('Sh0rt-pw!') }, /^ADMIN_CREDENTIALS: the password must be at least 12 characters when ENVIRONMENT=prod$/],
    ['the username as password', { ADMIN_CREDENTIALS: admin('Administrator', 'administrator') }, /^ADMIN_CREDENTIALS: the password must not be the username/],
    ['a password of one character', { ADMIN_CREDENTIALS: admin('aaaaaaaaaaaaaaaa') }, /^ADMIN_CREDENTIALS: the password must have at least 6 different characters/],
    ['a password of few characters', { ADMIN_CREDENTIALS: admin('abcabcabcabcab12') }, /^ADMIN_CREDENTIALS: the password must have at least 6 different characters/],
    ['a repeated password', { ADMIN_CREDENTIALS: admin('pass1234!pass1234!') }, /^ADMIN_CREDENTIALS: the password must not be a short sequence repeated/],
    ['a KEY_HASHER_SECRET of one character', { KEY_HASHER_SECRET: 'x'.repeat(64) }, /^KEY_HASHER_SECRET: is one character repeated when ENVIRONMENT=prod$/],
    ['a repeated KEY_HASHER_SECRET', { KEY_HASHER_SECRET: '0123456789abcdef'.repeat(2) }, /^KEY_HASHER_SECRET: is a short sequence repeated/],
    ['a low-entropy KEY_HASHER_SECRET', { KEY_HASHER_SECRET: `${'a'.repeat(30)}bc` }, /^KEY_HASHER_SECRET: has too little entropy/],
    ['a one-character JWT_SECRET', { JWT_SECRET: 'j'.repeat(40) }, /^JWT_SECRET: is one character repeated/],
    ['an all-zero LOCAL_ENCRYPTION_KEY', { LOCAL_ENCRYPTION_KEY: '00'.repeat(32) }, /^LOCAL_ENCRYPTION_KEY: is all zero bytes when ENVIRONMENT=prod$/],
    ['a one-byte LOCAL_ENCRYPTION_KEY', { LOCAL_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }, /^LOCAL_ENCRYPTION_KEY: is one byte repeated/],
    ['a patterned LOCAL_ENCRYPTION_KEY', { LOCAL_ENCRYPTION_KEY: 'deadbeef'.repeat(8) }, /^LOCAL_ENCRYPTION_KEY: has too few different bytes/],
  ])('refuse %s, naming the setting on one line', (_name, weak, message) => {
    expect(() => loadConfig({ ENVIRONMENT: 'prod', ...GOOD, ...weak })).toThrow(message);
    expect(() => loadConfig({ ENVIRONMENT: 'staging', ...GOOD, ...weak })).toThrow(/ when ENVIRONMENT=staging$/);
    // dev and test keep taking what they are given.
    for (const ENVIRONMENT of ['dev', 'test']) expect(() => loadConfig({ ENVIRONMENT, DATA_DIR: tmp(), ...GOOD, ...weak })).not.toThrow();
  });

  it('judge random values as strong', () => {
    for (let i = 0; i < 200; i++) {
      expect(weakSecret(randomBytes(16).toString('hex'))).toBeNull();
      expect(weakSecret(randomBytes(32).toString('base64'))).toBeNull();
      expect(weakEncryptionKey(randomBytes(32))).toBeNull();
      expect(weakAdminPassword('admin', randomBytes(9).toString('base64url'))).toBeNull();
    }
  });

  it('leave dev starting with nothing set up', async () => {
    const said: string[] = [];
    const secrets = await resolveSecrets(loadConfig({ DATA_DIR: tmp() }), (m) => said.push(m));
    expect(secrets.keyHasherSecret.length).toBeGreaterThanOrEqual(32);
    expect(said.some((m) => m.startsWith('Generated the admin login'))).toBe(true);
  });
});
