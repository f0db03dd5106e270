/**
 * A fake AWS KMS on 127.0.0.1 speaking the JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: TrentService.GenerateDataKey | TrentService.Decrypt`, base64 `Plaintext` /
 * `CiphertextBlob`. Enough KMS to keep a real KMSClient honest:
 *
 *   - the ciphertext blob really seals the data key (AES-256-GCM under a per-key master key) and
 *     binds the key id and the encryption context, so Decrypt with another context answers
 *     `InvalidCiphertextException`, and with another KeyId `IncorrectKeyException`, as KMS does;
 *   - every request is recorded (target, headers, parsed body);
 *   - `fail(...)` scripts error answers (`{"__type": "…", "message": "…"}`, HTTP 400 by default).
 *
 *   const kms = await startFakeKms();
 *   const client = new KMSClient({ region: 'us-east-1', endpoint: kms.url, credentials: FAKE_AWS_CREDENTIALS });
 *   await kms.close();
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Static credentials: the SDK signs with SigV4, the fake only checks that it did. */
export const FAKE_AWS_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key-for-tests-only' };

export type KmsOperation = 'GenerateDataKey' | 'Decrypt';

export interface KmsRequest {
  operation: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface KmsFailure {
  /** Only this operation fails (default: the next request of any operation). */
  operation?: KmsOperation;
  type: string;
  message?: string;
  status?: number;
}

export interface FakeKms {
  url: string;
  requests: KmsRequest[];
  /** Queues error answers, each taken by the next matching request. */
  fail(...failures: KmsFailure[]): void;
  close(): Promise<void>;
}

const MAGIC = Buffer.from('fkms');

export async function startFakeKms(): Promise<FakeKms> {
  const masterKeys = new Map<string, Buffer>();
  const masterKey = (keyId: string) => {
    let key = masterKeys.get(keyId);
    if (!key) masterKeys.set(keyId, (key = randomBytes(32)));
    return key;
  };
  const contextAad = (keyId: string, context: unknown) => {
    const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHash('sha256').update(JSON.stringify([keyId, entries])).digest();
  };

  const requests: KmsRequest[] = [];
  const failures: KmsFailure[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        /* answered below */
      }
      requests.push({ operation, headers: req.headers, body });

      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-kms-${requests.length}` });
        res.end(JSON.stringify(payload));
      };
      const error = (type: string, message: string, status = 400) => send(status, { __type: type, message });

      const failureAt = failures.findIndex((f) => !f.operation || f.operation === operation);
      if (failureAt >= 0) {
        const [f] = failures.splice(failureAt, 1);
        return error(f!.type, f!.message ?? `fake ${f!.type}`, f!.status);
      }
      if (req.method !== 'POST' || req.url !== '/') return error('UnknownOperationException', 'POST / only', 404);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return error('MissingAuthenticationTokenException', 'request is not signed', 403);
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return error('SerializationException', 'expected application/x-amz-json-1.1');

      if (operation === 'GenerateDataKey') {
        const keyId = body.KeyId;
        if (typeof keyId !== 'string' || !keyId) return error('ValidationException', 'KeyId is required');
        if (body.KeySpec !== 'AES_256' && body.NumberOfBytes !== 32) return error('ValidationException', 'this fake makes AES_256 keys only');
        const plaintext = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', masterKey(keyId), iv);
        cipher.setAAD(contextAad(keyId, body.EncryptionContext));
        const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        const id = Buffer.from(keyId, 'utf8');
        const blob = Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv, cipher.getAuthTag(), sealed]);
        return send(200, { KeyId: keyId, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob.toString('base64') });
      }

      if (operation === 'Decrypt') {
        const blob = Buffer.from(String(body.CiphertextBlob ?? ''), 'base64');
        if (blob.length < MAGIC.length + 1 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) return error('InvalidCiphertextException', 'not a ciphertext of this KMS');
        const idLength = blob[MAGIC.length]!;
        const idEnd = MAGIC.length + 1 + idLength;
        const keyId = blob.subarray(MAGIC.length + 1, idEnd).toString('utf8');
        if (typeof body.KeyId === 'string' && body.KeyId !== keyId) return error('IncorrectKeyException', 'the ciphertext was not encrypted under this key');
        const key = masterKeys.get(keyId);
        if (!key) return error('InvalidCiphertextException', 'unknown key');
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(idEnd, idEnd + 12));
          decipher.setAAD(contextAad(keyId, body.EncryptionContext));
          decipher.setAuthTag(blob.subarray(idEnd + 12, idEnd + 28));
          const plaintext = Buffer.concat([decipher.update(blob.subarray(idEnd + 28)), decipher.final()]);
          return send(200, { KeyId: keyId, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        } catch {
          return error('InvalidCiphertextException', '');
        }
      }

      return error('UnknownOperationException', `this fake does not implement ${operation || '(no X-Amz-Target)'}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (...f) => void failures.push(...f),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
