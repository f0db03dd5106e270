// Rough added latency at concurrency 1 (the real benchmark belongs in bench/):
//   cd backend && node --import tsx scripts/measure-overhead.ts        (N=2000 requests per side)
// A zero-delay fake Anthropic answers small JSON messages; the same requests go direct and through
// the proxy (auth, accounting and usage writes on, as in production), one at a time. Then Anthropic
// answers 429 and the proxy falls back to a zero-delay fake Bedrock (invoke).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createAccessKeyRepository } from '../src/db/access-key-repository.ts';
import { createBedrockKeyRepository } from '../src/db/bedrock-key-repository.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createUserRepository } from '../src/db/user-repository.ts';
import { accessKeyPrefix, createAccessKeyHasher, generateAccessKey } from '../src/security/access-key.ts';
import { createEnvelope } from '../src/security/envelope.ts';
import { hashPassword } from '../src/security/passwords.ts';
import { errorReply, startFakeAnthropic } from '../test/fakes/anthropic.ts';
import { startFakeBedrock } from '../test/fakes/bedrock.ts';

const N = Number(process.env.N ?? 2000);
const body = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

async function time(url: string, n: number, before?: () => void): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    before?.();
    const t = performance.now();
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test' } });
    await res.body.arrayBuffer();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], q: number) => xs[Math.floor(xs.length * q)]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

const anthropic = await startFakeAnthropic();
const bedrock = await startFakeBedrock();
const hasherSecret = 'measure-overhead-key-hasher-secret-0123';
const localKey = Buffer.alloc(32, 7);
const config = loadConfig({
  ENVIRONMENT: 'test',
  KEY_HASHER_SECRET: hasherSecret,
  ADMIN_CREDENTIALS: '{"username":"admin","password":"unused"}',
  DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-measure-')),
  PLAN_API_URL: anthropic.url,
  BEDROCK_ENDPOINT: bedrock.url,
  LOCAL_ENCRYPTION_KEY: localKey.toString('base64'),
});
const database = await openDatabase({ kind: 'pglite' });
await migrate(database);
const secrets = { keyHasherSecret: hasherSecret, jwtSecret: undefined, admin: { username: 'admin', passwordHash: await hashPassword('unused') }, localEncryptionKey: localKey };
const app = await createApp(config, secrets, database, pino({ level: 'info' }, fs.createWriteStream('/dev/null')));
await app.server.listen({ port: 0, host: '127.0.0.1' });
const proxy = `http://127.0.0.1:${(app.server.server.address() as { port: number }).port}`;

const user = await createUserRepository(database.db).create({ name: 'measure', description: null });
const rawKey = generateAccessKey();
const key = await createAccessKeyRepository(database.db).create({
  userId: user.id,
  keyHash: createAccessKeyHasher(hasherSecret)(rawKey),
  keyPrefix: accessKeyPrefix(rawKey),
  bedrockRegion: 'us-east-1',
});
const blob = await createEnvelope({ localKey }).encrypt('ABSK-measure-overhead-bedrock-key', key.id);
await createBedrockKeyRepository(database.db).upsert({ accessKeyId: key.id, encryptedKey: blob, last4: '-key' });

for (let round = 1; round <= 2; round++) {
  await time(`${anthropic.url}/v1/messages`, 300);
  await time(`${proxy}/ak/${rawKey}/v1/messages`, 300);
  const direct = await time(`${anthropic.url}/v1/messages`, N);
  const proxied = await time(`${proxy}/ak/${rawKey}/v1/messages`, N);
  console.log(
    `round ${round}: direct p50 ${ms(pct(direct, 0.5))} p99 ${ms(pct(direct, 0.99))}; ` +
      `proxied p50 ${ms(pct(proxied, 0.5))} p99 ${ms(pct(proxied, 0.99))}; added p50 ${ms(pct(proxied, 0.5) - pct(direct, 0.5))}`,
  );
}

const M = Math.min(N, 500);
const rateLimited = () => anthropic.reply(errorReply(429, 'rate_limit_error', 'limited'));
const planError = await time(`${anthropic.url}/v1/messages`, M, rateLimited);
const bedrockDirect = await time(`${bedrock.url}/model/us.anthropic.claude-opus-5-5/invoke`, M);
const fallback = await time(`${proxy}/ak/${rawKey}/v1/messages`, M, rateLimited);
console.log(
  `fallback (Anthropic 429, then Bedrock invoke): via proxy p50 ${ms(pct(fallback, 0.5))} p99 ${ms(pct(fallback, 0.99))}; ` +
    `the two upstream calls alone p50 ${ms(pct(planError, 0.5) + pct(bedrockDirect, 0.5))}; ` +
    `added p50 ${ms(pct(fallback, 0.5) - pct(planError, 0.5) - pct(bedrockDirect, 0.5))}`,
);

await app.close();
await database.close();
await anthropic.close();
await bedrock.close();
