import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { accessKeyPrefix, createAccessKeyHasher, generateAccessKey } from '../../src/security/access-key.ts';
import type { Secrets } from '../../src/secrets.ts';
import { deriveJwtKey, signAdminToken } from '../../src/security/jwt.ts';
import { hashPassword } from '../../src/security/passwords.ts';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { createUserRepository } from '../../src/db/user-repository.ts';
import type { Database } from '../../src/db/client.ts';
import { openTestDatabase, type TestDatabase } from './db.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple';
const KEY_HASHER_SECRET = 'test-key-hasher-secret-0123456789abcdef';
/** 32 bytes as base64, for local envelope encryption of Bedrock keys (override with LOCAL_ENCRYPTION_KEY). */
export const LOCAL_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

let adminHash: Promise<string> | undefined;

export interface TestApp {
  url: string;
  app: App;
  config: Config;
  /** The app's database (for a peer app: the peer's own handle on the shared data). */
  database: TestDatabase | Database;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text (to prove secrets never reach it). */
  logText(): string;
  /** A user with one active access key, created straight in the database. */
  createKey(name?: string): Promise<{ rawKey: string; userId: string; accessKeyId: string }>;
  adminToken(): Promise<string>;
  /** Registers the access key's Bedrock API key through the admin API, as an admin would. */
  registerBedrockKey(accessKeyId: string, bedrockApiKey?: string): Promise<void>;
  /** Waits until the recorder has written everything queued. */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real server (createApp) on 127.0.0.1:0 with its own database and env overrides; or, with
 * `database`, a second proxy task on that database (closing it leaves the database open).
 */
export async function startTestApp(env: Record<string, string> = {}, options: { database?: Database } = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-app-'));
  const config = loadConfig({
    ENVIRONMENT: 'test',
    KEY_HASHER_SECRET,
    ADMIN_CREDENTIALS: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    PLAN_API_URL: 'http://127.0.0.1:9',
    LOCAL_ENCRYPTION_KEY,
    ...env,
  });
  adminHash ??= hashPassword(ADMIN_PASSWORD);
  const secrets: Secrets = { keyHasherSecret: KEY_HASHER_SECRET, jwtSecret: undefined, admin: { username: 'admin', passwordHash: await adminHash }, localEncryptionKey: config.localEncryptionKey };
  const logs: Record<string, unknown>[] = [];
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const database = options.database ?? (await openTestDatabase());
  const app = await createApp(config, secrets, database, createLogger(config.logLevel, sink));
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.server.address() as { port: number };
  const users = createUserRepository(database.db);
  const keys = createAccessKeyRepository(database.db);
  const hash = createAccessKeyHasher(KEY_HASHER_SECRET);
  let n = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    config,
    database,
    logs,
    logText: () => text,
    async createKey(name = `user-${++n}-${Date.now()}`) {
      const user = await users.create({ name, description: null });
      const rawKey = generateAccessKey();
      const key = await keys.create({ userId: user.id, keyHash: hash(rawKey), keyPrefix: accessKeyPrefix(rawKey), bedrockRegion: null });
      return { rawKey, userId: user.id, accessKeyId: key.id };
    },
    async adminToken() {
      return (await signAdminToken(deriveJwtKey(KEY_HASHER_SECRET), secrets.admin)).token;
    },
    async registerBedrockKey(accessKeyId, bedrockApiKey = 'ABSK-test-bedrock-api-key') {
      const res = await app.server.inject({
        method: 'PUT',
        url: `/admin/access-keys/${accessKeyId}/bedrock-key`,
        headers: { authorization: `Bearer ${(await signAdminToken(deriveJwtKey(KEY_HASHER_SECRET), secrets.admin)).token}` },
        payload: { bedrock_api_key: bedrockApiKey },
      });
      if (res.statusCode !== 200) throw new Error(`registering a Bedrock key answered ${res.statusCode}: ${res.body}`);
    },
    flushUsage: () => app.recorder.flush(),
    async close() {
      await app.close();
      if (!options.database) await (database as TestDatabase).dispose();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
