import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { UsageRecorder } from './accounting/recorder.ts';
import { createAccessKeyRepository } from './db/access-key-repository.ts';
import type { Database } from './db/client.ts';
import { isMigrated } from './db/migrate.ts';
import { createUsageRepository } from './db/usage-repository.ts';
import { createUserRepository } from './db/user-repository.ts';
import type { Logger } from './observability/logger.ts';
import { createAccessKeyResolver } from './proxy/access-keys.ts';
import { createPlanUpstream } from './proxy/plan-upstream.ts';
import { createAccessKeyHasher, isAccessKeyFormat } from './security/access-key.ts';
import type { Secrets } from './security/dev-secrets.ts';
import { deriveJwtKey } from './security/jwt.ts';
import { buildServer } from './server.ts';

export interface App {
  server: FastifyInstance;
  recorder: UsageRecorder;
  /** Stops accepting, lets in-flight requests finish (up to the drain time), flushes usage, closes upstreams. */
  close(): Promise<void>;
}

/** Wires config, secrets and an open (migrated) database into a ready server. Used by main.ts and tests. */
export async function createApp(config: Config, secrets: Secrets, database: Database, logger: Logger): Promise<App> {
  const hashKey = createAccessKeyHasher(secrets.keyHasherSecret);
  const accessKeys = createAccessKeyRepository(database.db);
  const users = createUserRepository(database.db);
  const resolver = createAccessKeyResolver({ isWellFormed: isAccessKeyFormat, hash: hashKey, lookup: (hash) => accessKeys.findUsable(hash) });
  const plan = createPlanUpstream({ baseUrl: config.planApiUrl, firstByteTimeoutMs: config.planFirstByteTimeoutMs });
  const recorder = new UsageRecorder({
    repository: createUsageRepository(database.db),
    spillFile: path.join(config.dataDir, 'usage-spill.jsonl'),
    logger,
  });
  recorder.start();

  const server = await buildServer({
    logger,
    proxy: { resolver, plan, recorder, planApiKey: config.planApiKey },
    admin: {
      users,
      accessKeys,
      resolver,
      hashKey,
      admin: secrets.admin,
      jwtKey: deriveJwtKey(secrets.keyHasherSecret, secrets.jwtSecret),
    },
    isReady: () => isMigrated(database),
  });

  return {
    server,
    recorder,
    async close() {
      // Streams still running may finish (up to the drain time); a keep-alive connection whose
      // response ended after close() began would otherwise hold the server open, so sweep idle ones.
      const drain = setTimeout(() => server.server.closeAllConnections(), config.shutdownDrainMs);
      const sweep = setInterval(() => server.server.closeIdleConnections(), 200);
      await server.close();
      clearTimeout(drain);
      clearInterval(sweep);
      await recorder.close();
      await plan.close();
    },
  };
}
