// The real server (createApp) in this process on PGlite in a temporary folder, with an admin API
// caller: what bench/switch-history.ts and bench/plan-day.ts measure through.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../backend/src/app.ts';
import { loadConfig } from '../backend/src/config.ts';
import { openDatabase } from '../backend/src/db/client.ts';
import { migrate } from '../backend/src/db/migrate.ts';
import { createLogger } from '../backend/src/observability/logger.ts';
import { hashPassword } from '../backend/src/security/passwords.ts';

export async function startInProcessProxy(env: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-bench-'));
  const secret = 'bench-key-hasher-secret-0123456789abcdef';
  const config = loadConfig({ ENVIRONMENT: 'dev', DATA_DIR: dataDir, KEY_HASHER_SECRET: secret, LOCAL_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'warn', ...env });
  const database = await openDatabase({ kind: 'pglite' });
  await migrate(database);
  const admin = { username: 'admin', passwordHash: await hashPassword('bench-password') };
  const app = await createApp(config, { keyHasherSecret: secret, jwtSecret: undefined, admin, localEncryptionKey: config.localEncryptionKey }, database, createLogger('warn'));
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.server.address() as { port: number }).port}`;
  const login = await app.server.inject({ method: 'POST', url: '/admin/auth/login', payload: { username: 'admin', password: 'bench-password' } });
  const token = (login.json() as { access_token: string }).access_token;
  const adminApi = async (method: 'POST' | 'PATCH' | 'PUT', route: string, payload: object) => {
    const res = await app.server.inject({ method, url: route, payload, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode >= 300) throw new Error(`${method} ${route}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, string>;
  };
  return {
    app,
    url,
    adminApi,
    async close() {
      await app.close();
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
