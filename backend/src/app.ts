import fs from 'node:fs';
import path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { UsageRecorder } from './accounting/recorder.ts';
import { createTransact } from './admin/transaction.ts';
import { startSweeper, type Sweeper } from './admin/sweeper.ts';
import { cacheCoherence } from './cache-coherence.ts';
import { createAccessKeyRepository } from './db/access-key-repository.ts';
import { createAdminTokenRepository } from './db/admin-token-repository.ts';
import { createAuditRepository } from './db/audit-repository.ts';
import { createChangeFeed, type ChangeFeed } from './db/change-feed.ts';
import { createBedrockKeyRepository } from './db/bedrock-key-repository.ts';
import type { Database } from './db/client.ts';
import { isMigrated } from './db/migrate.ts';
import { createUsageRepository } from './db/usage-repository.ts';
import { createUserRepository } from './db/user-repository.ts';
import type { Logger } from './observability/logger.ts';
import { createAccessKeyResolver, type AccessKeyResolver } from './proxy/access-keys.ts';
import { createBedrockKeyStore, type BedrockKeyStore } from './proxy/bedrock-keys.ts';
import { createBedrockUpstream } from './bedrock/upstream.ts';
import { createCircuitBreakers, type CircuitBreakers } from './proxy/circuit-breaker.ts';
import { createModelMappingRepository } from './db/model-mapping-repository.ts';
import { createModelMappingCache, type ModelMappingCache } from './proxy/model-mappings.ts';
import { createPlanUpstream } from './proxy/plan-upstream.ts';
import { createAccessKeyHasher, isAccessKeyFormat } from './security/access-key.ts';
import type { Secrets } from './security/dev-secrets.ts';
import { createEnvelope, kmsKeyRegion } from './security/envelope.ts';
import { deriveJwtKey } from './security/jwt.ts';
import { buildServer } from './server.ts';

export interface App {
  server: FastifyInstance;
  recorder: UsageRecorder;
  /** Decrypted Bedrock API keys by access key id (cached; admin changes invalidate it). */
  bedrockKeys: BedrockKeyStore;
  /** The proxy's access-key cache (tests read the routing strategy it holds). */
  resolver: AccessKeyResolver;
  /** Per-access-key circuit breakers (state for the admin API and metrics). */
  breakers: CircuitBreakers;
  /** Admin model-mapping rows held in memory; refresh() after a change. */
  modelMappings: ModelMappingCache;
  /** Admin changes between processes (LISTEN/NOTIFY): this process hears the others' through it. */
  changes: ChangeFeed;
  /** Revokes rotated keys at the end of their grace period (tests call sweep()). */
  sweeper: Sweeper;
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
  const bedrock = createBedrockUpstream({ mode: config.bedrockApi, auth: config.bedrockAuth, endpoint: config.bedrockEndpoint });
  const modelMappings = await createModelMappingCache({
    load: () => createModelMappingRepository(database.db).list(),
    onError: (err) => logger.warn({ err }, 'model mappings refresh failed; keeping the last ones'),
  });
  const breakers = createCircuitBreakers({
    threshold: config.circuitFailureThreshold,
    windowMs: 60_000,
    resetMs: config.circuitResetTimeoutMs,
  });
  // KMS in the key's own region (from its ARN), else the task's, else the Bedrock default.
  const kms = config.kmsKeyId
    ? new KMSClient({ region: kmsKeyRegion(config.kmsKeyId) ?? process.env.AWS_REGION ?? config.bedrockRegion, ...(config.kmsEndpoint ? { endpoint: config.kmsEndpoint } : {}) })
    : undefined;
  const envelope = createEnvelope({ kmsKeyId: config.kmsKeyId, kmsClient: kms, localKey: secrets.localEncryptionKey ?? config.localEncryptionKey });
  const bedrockKeyRows = createBedrockKeyRepository(database.db);
  const bedrockKeys = createBedrockKeyStore({ repository: bedrockKeyRows, envelope });
  // Every admin change reaches this process's caches through the database, from whichever task made it.
  const changes = createChangeFeed({ database, onError: (err, context) => logger.warn({ err }, `cache coherence: ${context}`) });
  changes.subscribe(cacheCoherence({ resolver, bedrockKeys, breakers, modelMappings }));
  await changes.start();
  const transact = createTransact({ db: database.db, changes });
  const adminTokens = createAdminTokenRepository(database.db);
  // The old key already stops at its expiry; the sweep only has to record it, so a few seconds late is fine.
  const sweeper = startSweeper({ transact, tokens: adminTokens, intervalMs: Math.min(5_000, Math.max(200, config.keyRotationGraceMs / 4)), logger });
  const recorder = new UsageRecorder({
    repository: createUsageRepository(database.db),
    spillFile: path.join(config.dataDir, 'usage-spill.jsonl'),
    logger,
  });
  recorder.start();

  const server = await buildServer({
    logger,
    proxy: {
      resolver,
      plan,
      bedrock,
      bedrockKeys,
      bedrockAuth: config.bedrockAuth,
      bedrockRegion: config.bedrockRegion,
      modelMappings: modelMappings.current,
      breakers,
      recorder,
      planApiKey: config.planApiKey,
      pingIntervalMs: config.streamPingIntervalMs,
    },
    admin: {
      users,
      accessKeys,
      resolver,
      bedrockKeys: bedrockKeyRows,
      envelope,
      bedrockKeyCache: bedrockKeys,
      breakers,
      hashKey,
      admin: secrets.admin,
      jwtKey: deriveJwtKey(secrets.keyHasherSecret, secrets.jwtSecret),
      transact,
      audit: createAuditRepository(database.db),
      tokens: adminTokens,
      modelMappings: createModelMappingRepository(database.db),
      keyRotationGraceMs: config.keyRotationGraceMs,
      corsOrigins: config.corsOrigins,
      version: packageVersion(),
    },
    isReady: () => isMigrated(database),
  });

  return {
    server,
    recorder,
    bedrockKeys,
    resolver,
    breakers,
    modelMappings,
    changes,
    sweeper,
    async close() {
      // Streams still running may finish (up to the drain time); a keep-alive connection whose
      // response ended after close() began would otherwise hold the server open, so sweep idle ones.
      const drain = setTimeout(() => server.server.closeAllConnections(), config.shutdownDrainMs);
      const sweep = setInterval(() => server.server.closeIdleConnections(), 200);
      await server.close();
      clearTimeout(drain);
      clearInterval(sweep);
      await sweeper.stop();
      await changes.close();
      await recorder.close();
      await plan.close();
      await bedrock.close();
      modelMappings.stop();
      kms?.destroy();
    },
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
