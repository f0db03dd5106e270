import { KMSClient } from '@aws-sdk/client-kms';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BLOB_VERSION, createEnvelope, EnvelopeError } from '../../src/security/envelope.ts';
import { FAKE_AWS_CREDENTIALS, startFakeKms, type FakeKms } from '../fakes/kms.ts';
import { startTestApp } from '../support/app.ts';

// The envelope in KMS mode, driven through the real @aws-sdk/client-kms against the JSON 1.1 fake.

const KMS_KEY_ID = 'alias/claude-code-proxy';
const KEY_A = '3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01';
const KEY_B = '7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
const SECRET = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleS0xMjM0NTY3ODkw';

let kms: FakeKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await startFakeKms();
  client = new KMSClient({ region: 'ap-northeast-2', endpoint: kms.url, credentials: FAKE_AWS_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await kms.close();
});

async function code(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EnvelopeError);
  expect((err as Error).message).not.toContain(SECRET);
  return (err as EnvelopeError).code;
}

describe('envelope encryption with KMS (fake JSON 1.1 KMS, real KMSClient)', () => {
  it('wraps a fresh data key from GenerateDataKey and unwraps it with Decrypt, the access key id as context', async () => {
    const envelope = createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: client });
    expect(envelope.mode).toBe('kms');
    const before = kms.requests.length;
    const blob = await envelope.encrypt(SECRET, KEY_A);
    expect(blob[0]).toBe(BLOB_VERSION.kms);
    expect(blob.includes(Buffer.from(SECRET))).toBe(false);
    expect(await envelope.decrypt(blob, KEY_A)).toBe(SECRET);

    const [generate, decrypt] = kms.requests.slice(before);
    expect(generate).toMatchObject({ operation: 'GenerateDataKey', body: { KeyId: KMS_KEY_ID, KeySpec: 'AES_256', EncryptionContext: { accessKeyId: KEY_A } } });
    expect(generate!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(generate!.headers['x-amz-target']).toBe('TrentService.GenerateDataKey');
    expect(generate!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE\/\d{8}\/ap-northeast-2\/kms\/aws4_request/);
    expect(decrypt).toMatchObject({ operation: 'Decrypt', body: { KeyId: KMS_KEY_ID, EncryptionContext: { accessKeyId: KEY_A } } });
    // The wrapped data key in the blob is exactly what KMS handed out.
    const wrapped = blob.subarray(3, 3 + blob.readUInt16BE(1));
    expect(decrypt!.body.CiphertextBlob).toBe(wrapped.toString('base64'));
    // The Bedrock key itself never goes to KMS.
    expect(JSON.stringify(kms.requests)).not.toContain(SECRET);
  });

  it('a blob moved to another access key fails at KMS (encryption context) as SECURITY_DECRYPT_FAILED', async () => {
    const envelope = createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: client });
    const blob = await envelope.encrypt(SECRET, KEY_A);
    expect(await code(envelope.decrypt(blob, KEY_B))).toBe('SECURITY_DECRYPT_FAILED');
    expect(kms.requests.at(-1)).toMatchObject({ operation: 'Decrypt', body: { EncryptionContext: { accessKeyId: KEY_B } } });
  });

  it('a tampered blob fails even when KMS unwraps the data key', async () => {
    const envelope = createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: client });
    const blob = await envelope.encrypt(SECRET, KEY_A);
    blob[blob.length - 1]! ^= 0x80;
    expect(await code(envelope.decrypt(blob, KEY_A))).toBe('SECURITY_DECRYPT_FAILED');
    expect(kms.requests.at(-1)!.operation).toBe('Decrypt');
  });

  it('maps KMS answers: InvalidCiphertextException → SECURITY_DECRYPT_FAILED, others → SECURITY_KMS_FAILED', async () => {
    const envelope = createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: client });
    const blob = await envelope.encrypt(SECRET, KEY_A);
    kms.fail({ operation: 'Decrypt', type: 'InvalidCiphertextException' });
    expect(await code(envelope.decrypt(blob, KEY_A))).toBe('SECURITY_DECRYPT_FAILED');
    kms.fail({ operation: 'Decrypt', type: 'AccessDeniedException', message: 'not allowed' });
    expect(await code(envelope.decrypt(blob, KEY_A))).toBe('SECURITY_KMS_FAILED');
    kms.fail({ operation: 'GenerateDataKey', type: 'DisabledException', message: 'key disabled' });
    expect(await code(envelope.encrypt(SECRET, KEY_A))).toBe('SECURITY_KMS_FAILED');
    kms.fail({ operation: 'Decrypt', type: 'KMSInternalException', status: 500 });
    expect(await code(envelope.decrypt(blob, KEY_A))).toBe('SECURITY_KMS_FAILED');
    // And it still works afterwards.
    expect(await envelope.decrypt(blob, KEY_A)).toBe(SECRET);
  });

  it('another KMS key id is refused by KMS (IncorrectKeyException)', async () => {
    const blob = await createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: client }).encrypt(SECRET, KEY_A);
    const other = createEnvelope({ kmsKeyId: 'alias/another-key', kmsClient: client });
    expect(await code(other.decrypt(blob, KEY_A))).toBe('SECURITY_DECRYPT_FAILED');
  });

  it('an unreachable KMS is SECURITY_KMS_FAILED, not a crash', async () => {
    const down = new KMSClient({ region: 'ap-northeast-2', endpoint: 'http://127.0.0.1:9', credentials: FAKE_AWS_CREDENTIALS, maxAttempts: 1 });
    try {
      expect(await code(createEnvelope({ kmsKeyId: KMS_KEY_ID, kmsClient: down }).encrypt(SECRET, KEY_A))).toBe('SECURITY_KMS_FAILED');
    } finally {
      down.destroy();
    }
  });
});

describe('the server with KMS_KEY_ID and KMS_ENDPOINT', () => {
  it('stores Bedrock keys wrapped by KMS and the store decrypts them', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_AWS_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_AWS_CREDENTIALS.secretAccessKey);
    const arn = 'arn:aws:kms:eu-central-1:123456789012:key/3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01';
    const proxy = await startTestApp({ KMS_KEY_ID: arn, KMS_ENDPOINT: kms.url, LOCAL_ENCRYPTION_KEY: '' });
    try {
      const { accessKeyId } = await proxy.createKey();
      const before = kms.requests.length;
      const res = await request(`${proxy.url}/admin/access-keys/${accessKeyId}/bedrock-key`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await proxy.adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ bedrock_api_key: SECRET }),
      });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toMatchObject({ last4: SECRET.slice(-4), encryption: 'kms' });
      expect(await proxy.app.bedrockKeys.get(accessKeyId)).toBe(SECRET);
      const seen = kms.requests.slice(before);
      expect(seen.map((r) => r.operation)).toEqual(['GenerateDataKey', 'Decrypt']);
      // The region comes from the key's ARN.
      expect(seen[0]!.headers.authorization).toMatch(/\/eu-central-1\/kms\/aws4_request/);
      expect(proxy.logText()).not.toContain(SECRET);
    } finally {
      await proxy.close();
      vi.unstubAllEnvs();
    }
  });
});
