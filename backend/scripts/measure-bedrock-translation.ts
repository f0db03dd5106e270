// What the Converse translation costs over InvokeModel (issue 7 target: at most 2 ms p50), at
// concurrency 1, streamed and not. The bench/ harness is the real benchmark; this is the quick check:
//   cd backend && node --import tsx scripts/measure-bedrock-translation.ts      (N=1000 per case)
// A bedrock_only key sends every request to a zero-delay fake Bedrock, once with BEDROCK_API=invoke
// and once with converse; the fake's own time is measured direct and subtracted.
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
import { startFakeBedrock } from '../test/fakes/bedrock.ts';

const N = Number(process.env.N ?? 1000);
const model = 'claude-sonnet-4-5';
const bodyFor = (stream: boolean) =>
  JSON.stringify({ model, max_tokens: 100, stream, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });

async function time(url: string, body: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${url}: status ${res.statusCode}`);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

const bedrock = await startFakeBedrock();
const hasherSecret = 'measure-bedrock-key-hasher-secret-0123';
const localKey = Buffer.alloc(32, 7);
const database = await openDatabase({ kind: 'pglite' });
await migrate(database);
const user = await createUserRepository(database.db).create({ name: 'measure', description: null });
await createUserRepository(database.db).update(user.id, { routingStrategy: 'bedrock_only' });
const rawKey = generateAccessKey();
const key = await createAccessKeyRepository(database.db).create({
  userId: user.id,
  keyHash: createAccessKeyHasher(hasherSecret)(rawKey),
  keyPrefix: accessKeyPrefix(rawKey),
  bedrockRegion: 'us-east-1',
});
const blob = await createEnvelope({ localKey }).encrypt('ABSK-measure-bedrock-translation-key', key.id);
await createBedrockKeyRepository(database.db).upsert({ accessKeyId: key.id, encryptedKey: blob, last4: '-key' });
const secrets = { keyHasherSecret: hasherSecret, jwtSecret: undefined, admin: { username: 'admin', passwordHash: await hashPassword('unused') }, localEncryptionKey: localKey };

const results: Record<string, Record<string, number>> = {};
for (const api of ['invoke', 'converse'] as const) {
  const config = loadConfig({
    ENVIRONMENT: 'test',
    KEY_HASHER_SECRET: hasherSecret,
    ADMIN_CREDENTIALS: '{"username":"admin","password":"unused"}',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-measure-')),
    PLAN_API_URL: 'http://127.0.0.1:9',
    BEDROCK_ENDPOINT: bedrock.url,
    BEDROCK_API: api,
    LOCAL_ENCRYPTION_KEY: localKey.toString('base64'),
  });
  const app = await createApp(config, secrets, database, pino({ level: 'info' }, fs.createWriteStream('/dev/null')));
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const proxy = `http://127.0.0.1:${(app.server.server.address() as { port: number }).port}/ak/${rawKey}/v1/messages`;
  results[api] = {};
  for (const stream of [false, true]) {
    const op = api === 'invoke' ? (stream ? 'invoke-with-response-stream' : 'invoke') : stream ? 'converse-stream' : 'converse';
    const direct = `${bedrock.url}/model/${encodeURIComponent(`global.anthropic.${model}-20250929-v1:0`)}/${op}`;
    const directBody =
      api === 'invoke'
        ? JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] })
        : JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 100 } });
    await time(proxy, bodyFor(stream), 200); // warm-up
    await time(direct, directBody, 200);
    const viaProxy = p50(await time(proxy, bodyFor(stream), N));
    const alone = p50(await time(direct, directBody, N));
    results[api][stream ? 'stream' : 'json'] = viaProxy - alone;
    console.log(`${api} ${stream ? 'stream' : 'json  '}: via proxy p50 ${viaProxy.toFixed(3)} ms, Bedrock alone ${alone.toFixed(3)} ms, added ${(viaProxy - alone).toFixed(3)} ms`);
  }
  await app.close();
}
for (const kind of ['json', 'stream']) {
  console.log(`converse over invoke, ${kind}: ${(results.converse![kind]! - results.invoke![kind]!).toFixed(3)} ms p50`);
}
await database.close();
await bedrock.close();
