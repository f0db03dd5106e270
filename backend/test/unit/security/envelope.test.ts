import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { BLOB_VERSION, blobScheme, createEnvelope, EnvelopeError, kmsKeyRegion } from '../../../src/security/envelope.ts';

const KEY_A = '3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01';
const KEY_B = '7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b';
const SECRET = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleS0xMjM0NTY3ODkw';

const local = () => createEnvelope({ localKey: randomBytes(32) });

async function rejection(promise: Promise<unknown>): Promise<EnvelopeError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EnvelopeError);
  return err as EnvelopeError;
}

describe('envelope encryption with the local key', () => {
  it('round-trips a secret for its access key', async () => {
    const envelope = local();
    expect(envelope.mode).toBe('local');
    const blob = await envelope.encrypt(SECRET, KEY_A);
    expect(await envelope.decrypt(blob, KEY_A)).toBe(SECRET);
    expect(await envelope.decrypt(await envelope.encrypt('ünïcødé ✓', KEY_A), KEY_A)).toBe('ünïcødé ✓');
  });

  it('lays the blob out as version | wrapped-key length | wrapped key | IV | tag | ciphertext', async () => {
    const blob = await local().encrypt(SECRET, KEY_A);
    expect(blob[0]).toBe(BLOB_VERSION.local);
    expect(blobScheme(blob)).toBe('local');
    const wrappedLength = blob.readUInt16BE(1);
    expect(wrappedLength).toBe(12 + 16 + 32); // the data key, sealed with the local key
    expect(blob.length).toBe(3 + wrappedLength + 12 + 16 + Buffer.byteLength(SECRET));
    expect(blob.includes(Buffer.from(SECRET))).toBe(false);
  });

  it('uses a fresh data key and IV for every secret', async () => {
    const envelope = local();
    const blobs = await Promise.all(Array.from({ length: 20 }, () => envelope.encrypt(SECRET, KEY_A)));
    const wrapped = new Set(blobs.map((b) => b.subarray(3, 3 + 60).toString('hex')));
    const ivs = new Set(blobs.map((b) => b.subarray(63, 75).toString('hex')));
    const ciphertexts = new Set(blobs.map((b) => b.subarray(91).toString('hex')));
    expect(wrapped.size).toBe(20);
    expect(ivs.size).toBe(20);
    expect(ciphertexts.size).toBe(20);
  });

  it('does not decrypt for another access key (the id is the additional authenticated data)', async () => {
    const envelope = local();
    const blob = await envelope.encrypt(SECRET, KEY_A);
    const err = await rejection(envelope.decrypt(blob, KEY_B));
    expect(err.code).toBe('SECURITY_DECRYPT_FAILED');
    expect(err.message).not.toContain(SECRET);
  });

  it('does not decrypt with another local key', async () => {
    const blob = await local().encrypt(SECRET, KEY_A);
    expect((await rejection(local().decrypt(blob, KEY_A))).code).toBe('SECURITY_DECRYPT_FAILED');
  });

  it.each([
    ['the wrapped data key', 10],
    ['the IV', 3 + 60 + 2],
    ['the tag', 3 + 60 + 12 + 3],
    ['the ciphertext', -1],
  ])('refuses a blob with a flipped bit in %s', async (_part, offset) => {
    const envelope = local();
    const blob = await envelope.encrypt(SECRET, KEY_A);
    const at = offset < 0 ? blob.length + offset : offset;
    blob[at]! ^= 0x01;
    expect((await rejection(envelope.decrypt(blob, KEY_A))).code).toBe('SECURITY_DECRYPT_FAILED');
  });

  it('refuses unknown versions and truncated blobs with their own code', async () => {
    const envelope = local();
    const blob = await envelope.encrypt(SECRET, KEY_A);
    const unknown = Buffer.from(blob);
    unknown[0] = 9;
    expect(blobScheme(unknown)).toBeNull();
    expect((await rejection(envelope.decrypt(unknown, KEY_A))).code).toBe('SECURITY_BLOB_INVALID');
    expect((await rejection(envelope.decrypt(Buffer.alloc(0), KEY_A))).code).toBe('SECURITY_BLOB_INVALID');
    expect((await rejection(envelope.decrypt(blob.subarray(0, 40), KEY_A))).code).toBe('SECURITY_BLOB_INVALID');
    expect((await rejection(envelope.decrypt(blob.subarray(0, blob.length - 1), KEY_A))).code).toBe('SECURITY_DECRYPT_FAILED');
  });

  it('a KMS-wrapped blob needs KMS, and nothing encrypts without a key', async () => {
    const blob = await local().encrypt(SECRET, KEY_A);
    blob[0] = BLOB_VERSION.kms;
    expect((await rejection(local().decrypt(blob, KEY_A))).code).toBe('SECURITY_KEY_UNAVAILABLE');
    const none = createEnvelope({});
    expect(none.mode).toBe('none');
    const err = await rejection(none.encrypt(SECRET, KEY_A));
    expect(err.code).toBe('SECURITY_KEY_UNAVAILABLE');
    expect(err.message).toMatch(/KMS_KEY_ID or LOCAL_ENCRYPTION_KEY/);
    blob[0] = BLOB_VERSION.local;
    expect((await rejection(none.decrypt(blob, KEY_A))).code).toBe('SECURITY_KEY_UNAVAILABLE');
  });

  it('rejects a local key that is not 32 bytes, and a KMS key id without a client', () => {
    expect(() => createEnvelope({ localKey: randomBytes(16) })).toThrow(expect.objectContaining({ code: 'SECURITY_KEY_INVALID' }));
    expect(() => createEnvelope({ kmsKeyId: 'alias/x' })).toThrow(expect.objectContaining({ code: 'SECURITY_KEY_INVALID' }));
  });

  it('keeps decrypting local blobs after KMS is switched on (with the local key still given)', async () => {
    const localKey = randomBytes(32);
    const blob = await createEnvelope({ localKey }).encrypt(SECRET, KEY_A);
    const both = createEnvelope({ localKey, kmsKeyId: 'alias/x', kmsClient: {} as KMSClient });
    expect(both.mode).toBe('kms');
    expect(await both.decrypt(blob, KEY_A)).toBe(SECRET);
  });
});

describe('kmsKeyRegion', () => {
  it('reads the region from key and alias ARNs only', () => {
    expect(kmsKeyRegion('arn:aws:kms:eu-west-1:123456789012:key/3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01')).toBe('eu-west-1');
    expect(kmsKeyRegion('arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/proxy')).toBe('us-gov-west-1');
    expect(kmsKeyRegion('alias/claude-code-proxy')).toBeUndefined();
  });
});
