import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { resolveSecrets } from '../../src/secrets.ts';

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
