import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';

// Envelope encryption for stored secrets (Bedrock API keys). Every secret gets a fresh 256-bit data
// key; the secret is sealed with it (AES-256-GCM), and the data key itself is wrapped either by KMS
// (GenerateDataKey / Decrypt) or by LOCAL_ENCRYPTION_KEY (AES-256-GCM). The access key id is the
// additional authenticated data of both layers (for KMS: the encryption context), so a blob copied
// to another row does not decrypt.
//
// Blob: version (1 byte: 1 local, 2 KMS) | wrapped data key length (uint16 BE) | wrapped data key
//       | IV (12) | tag (16) | ciphertext
// A locally wrapped data key is itself IV (12) | tag (16) | ciphertext (32).

export const BLOB_VERSION = { local: 1, kms: 2 } as const;
export type EnvelopeScheme = keyof typeof BLOB_VERSION;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 3;

export type EnvelopeErrorCode =
  /** The blob does not authenticate: another row's blob, tampered bytes, or the wrong key. */
  | 'SECURITY_DECRYPT_FAILED'
  /** Not a blob this code writes: too short, or an unknown version byte. */
  | 'SECURITY_BLOB_INVALID'
  /** No key to encrypt with, or the blob needs a key this process was not given. */
  | 'SECURITY_KEY_UNAVAILABLE'
  /** The local key is not 32 bytes, or KMS is half configured. */
  | 'SECURITY_KEY_INVALID'
  /** KMS could not be reached or refused (access denied, disabled key…). */
  | 'SECURITY_KMS_FAILED';

/** Typed, with a stable `code`; messages never carry key material or plaintext. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Envelope {
  /** How new secrets are wrapped: `kms` when KMS_KEY_ID is set, `local` with only the local key, `none` with neither. */
  readonly mode: EnvelopeScheme | 'none';
  encrypt(plaintext: string, accessKeyId: string): Promise<Buffer>;
  decrypt(blob: Buffer, accessKeyId: string): Promise<string>;
}

export interface EnvelopeOptions {
  /** KMS key id, key ARN, alias/name or alias ARN; with a client, new secrets are wrapped by KMS. */
  kmsKeyId?: string;
  kmsClient?: KMSClient;
  /** 32 bytes (LOCAL_ENCRYPTION_KEY): wraps data keys when KMS is not configured; decrypts version-1 blobs. */
  localKey?: Buffer;
}

/** Which scheme wrapped this blob's data key, from its version byte (null: not a blob). */
export function blobScheme(blob: Buffer): EnvelopeScheme | null {
  if (blob[0] === BLOB_VERSION.local) return 'local';
  if (blob[0] === BLOB_VERSION.kms) return 'kms';
  return null;
}

/** The region inside a KMS key or alias ARN (`arn:aws:kms:eu-west-1:…`), else undefined. */
export function kmsKeyRegion(kmsKeyId: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(kmsKeyId)?.[1];
}

export function createEnvelope(options: EnvelopeOptions): Envelope {
  const { kmsKeyId, kmsClient, localKey } = options;
  if (localKey && localKey.length !== KEY_BYTES) {
    throw new EnvelopeError('SECURITY_KEY_INVALID', `the local encryption key must be ${KEY_BYTES} bytes (got ${localKey.length})`);
  }
  if (kmsKeyId && !kmsClient) throw new EnvelopeError('SECURITY_KEY_INVALID', 'a KMS key id needs a KMS client');
  const mode: Envelope['mode'] = kmsKeyId ? 'kms' : localKey ? 'local' : 'none';

  async function newDataKey(accessKeyId: string): Promise<{ dataKey: Buffer; wrapped: Buffer }> {
    if (mode === 'kms') {
      const out = await callKms(() =>
        kmsClient!.send(new GenerateDataKeyCommand({ KeyId: kmsKeyId, KeySpec: 'AES_256', EncryptionContext: { accessKeyId } })),
      );
      if (!out.Plaintext || out.Plaintext.length !== KEY_BYTES || !out.CiphertextBlob?.length) {
        throw new EnvelopeError('SECURITY_KMS_FAILED', 'KMS GenerateDataKey returned no usable 256-bit data key');
      }
      const dataKey = Buffer.from(out.Plaintext);
      out.Plaintext.fill(0);
      return { dataKey, wrapped: Buffer.from(out.CiphertextBlob) };
    }
    if (mode === 'local') {
      const dataKey = randomBytes(KEY_BYTES);
      return { dataKey, wrapped: seal(localKey!, dataKey, aad(accessKeyId)) };
    }
    throw new EnvelopeError('SECURITY_KEY_UNAVAILABLE', 'no encryption key is configured: set KMS_KEY_ID or LOCAL_ENCRYPTION_KEY');
  }

  async function unwrapDataKey(scheme: EnvelopeScheme, wrapped: Buffer, accessKeyId: string): Promise<Buffer> {
    if (scheme === 'local') {
      if (!localKey) throw new EnvelopeError('SECURITY_KEY_UNAVAILABLE', 'this secret was encrypted with LOCAL_ENCRYPTION_KEY, which is not set');
      return open(localKey, wrapped, aad(accessKeyId));
    }
    if (!kmsClient) throw new EnvelopeError('SECURITY_KEY_UNAVAILABLE', 'this secret was encrypted with KMS, but KMS_KEY_ID is not set');
    const out = await callKms(() =>
      kmsClient.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: { accessKeyId }, ...(kmsKeyId ? { KeyId: kmsKeyId } : {}) })),
    );
    if (!out.Plaintext || out.Plaintext.length !== KEY_BYTES) throw new EnvelopeError('SECURITY_KMS_FAILED', 'KMS Decrypt returned no 256-bit data key');
    const dataKey = Buffer.from(out.Plaintext);
    out.Plaintext.fill(0);
    return dataKey;
  }

  return {
    mode,
    async encrypt(plaintext, accessKeyId) {
      const { dataKey, wrapped } = await newDataKey(accessKeyId);
      try {
        if (wrapped.length > 0xffff) throw new EnvelopeError('SECURITY_KMS_FAILED', 'the wrapped data key is too long to store');
        const header = Buffer.alloc(HEADER_BYTES);
        header[0] = BLOB_VERSION[mode as EnvelopeScheme];
        header.writeUInt16BE(wrapped.length, 1);
        return Buffer.concat([header, wrapped, seal(dataKey, Buffer.from(plaintext, 'utf8'), aad(accessKeyId))]);
      } finally {
        dataKey.fill(0);
      }
    },
    async decrypt(blob, accessKeyId) {
      const scheme = blobScheme(blob);
      if (!scheme) throw new EnvelopeError('SECURITY_BLOB_INVALID', `unknown envelope version ${blob[0] ?? '(empty blob)'}`);
      const wrappedLength = blob.length >= HEADER_BYTES ? blob.readUInt16BE(1) : -1;
      const sealedStart = HEADER_BYTES + wrappedLength;
      if (wrappedLength <= 0 || blob.length < sealedStart + IV_BYTES + TAG_BYTES) {
        throw new EnvelopeError('SECURITY_BLOB_INVALID', 'the encrypted secret is truncated');
      }
      const dataKey = await unwrapDataKey(scheme, blob.subarray(HEADER_BYTES, sealedStart), accessKeyId);
      try {
        return open(dataKey, blob.subarray(sealedStart), aad(accessKeyId)).toString('utf8');
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

const aad = (accessKeyId: string) => Buffer.from(accessKeyId, 'utf8');

/** AES-256-GCM: IV | tag | ciphertext. */
function seal(key: Buffer, plaintext: Buffer, additionalData: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

function open(key: Buffer, sealed: Buffer, additionalData: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new EnvelopeError('SECURITY_BLOB_INVALID', 'the encrypted secret is truncated');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData);
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw new EnvelopeError('SECURITY_DECRYPT_FAILED', 'the encrypted secret does not decrypt for this access key (wrong key, another row, or altered)', { cause: err });
  }
}

async function callKms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as { name?: string; code?: string };
    const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
    // KMS says InvalidCiphertextException when the blob or its encryption context (the access key id) does not match.
    if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
      throw new EnvelopeError('SECURITY_DECRYPT_FAILED', `the encrypted secret does not decrypt for this access key (KMS: ${name})`, { cause: err });
    }
    throw new EnvelopeError('SECURITY_KMS_FAILED', `KMS request failed: ${name}`, { cause: err });
  }
}
