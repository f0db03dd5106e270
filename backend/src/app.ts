import fs from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { UsageRecorder } from './usage/recorder.ts';
import { createAccountingServices, type AccountingServices } from './usage/accounting-services.ts';
import { createTransact } from './admin/transaction.ts';
import { startSweeper, type Sweeper } from './admin/sweeper.ts';
import { cacheCoherence } from './cache-coherence.ts';
import { createAccessKeyRepository } from './db/access-key-repository.ts';
import { createAdminTokenRepository } from './db/admin-token-repository.ts';
import { createApiTokenRepository } from './db/api-token-repository.ts';
import { createLoginAttemptRepository } from './db/login-attempt-repository.ts';
import { createLoginLimiter } from './admin/login-limiter.ts';
import { createAuditRepository } from './db/audit-repository.ts';
import { createChangeFeed, type ChangeFeed } from './db/change-feed.ts';
import { createBedrockKeyRepository } from './db/bedrock-key-repository.ts';
import type { Database } from './db/client.ts';
import { isMigrated } from './db/migrate.ts';
import { createUserRepository } from './db/user-repository.ts';
import { createUserIdentityRepository } from './db/user-identity-repository.ts';
import type { OidcSettings } from './admin/oidc.ts';
import { scimPlugin } from './admin/scim.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { createAccessKeyResolver, type AccessKeyResolver } from './proxy/access-keys.ts';
import { createBedrockKeyStore, type BedrockKeyStore } from './proxy/bedrock-keys.ts';
import { createBedrockUpstream } from './bedrock/upstream.ts';
import { createCircuitBreakers, type CircuitBreakers } from './proxy/circuit-breaker.ts';
import { createModelMappingRepository } from './db/model-mapping-repository.ts';
import { createModelMappingCache, type ModelMappingCache } from './proxy/model-mappings.ts';
import { warnFallbackReadiness } from './admin/fallback-readiness.ts';
import { createPlanUpstream } from './proxy/plan-upstream.ts';
import { createAddressFailures } from './proxy/address-failures.ts';
import { createBodyIntake } from './proxy/body-intake.ts';
import { createFinalFailures } from './proxy/final-failures.ts';
import { startPlanWindowSync, type PlanWindowSync } from './proxy/plan-window-sync.ts';
import { createPlanWindows, type PlanWindows } from './proxy/plan-windows.ts';
import { createSessionAffinity } from './proxy/session-affinity.ts';
import { cachedSpend } from './proxy/status-line.ts';
import { addUnits, startOf } from './accounting/calendar.ts';
import { createPlanWindowRepository } from './db/plan-window-repository.ts';
import { createInFlight } from './proxy/in-flight.ts';
import { createUserLimiter } from './proxy/user-limits.ts';
import { createAccessKeyHasher, isAccessKeyFormat } from './security/access-key.ts';
import type { Secrets } from './secrets.ts';
import { createEnvelope, kmsKeyRegion } from './security/envelope.ts';
import { deriveJwtKey } from './security/jwt.ts';
import { buildServer } from './server.ts';

export interface App {
  server: FastifyInstance;
  recorder: UsageRecorder;
  /** Prices, rollups, reports and budgets (refresh prices after a change made outside the admin API). */
  accounting: AccountingServices;
  /** Decrypted Bedrock API keys by access key id (cached; admin changes invalidate it). */
  bedrockKeys: BedrockKeyStore;
  /** The proxy's access-key cache (tests read the routing strategy it holds). */
  resolver: AccessKeyResolver;
  /** Per-access-key circuit breakers (state for the admin API and metrics). */
  breakers: CircuitBreakers;
  /** Each access key's last Plan reading, and its sharing with other tasks (tests flush() it). */
  planWindows: PlanWindows;
  planWindowSync: PlanWindowSync;
  /** Admin model-mapping rows held in memory; refresh() after a change. */
  modelMappings: ModelMappingCache;
  /** Admin changes between processes (LISTEN/NOTIFY): this process hears the others' through it. */
  changes: ChangeFeed;
  /** Revokes rotated keys at the end of their grace period (tests call sweep()). */
  sweeper: Sweeper;
  /** Request metrics: EMF flushes (flush() in tests) and the Prometheus registry. */
  metrics: Metrics;
  /** Shutdown has begun: /ready answers 503 from now on (main.ts calls it on SIGTERM, before close()). */
  startDraining(): void;
  /**
   * Stops accepting, lets in-flight requests finish until the drain deadline (then they get an error
   * event), flushes usage and metrics, closes upstreams.
   */
  close(): Promise<void>;
}

// Request bodies a task holds at once (a quarter of the 1 GiB task infra/ deploys), and how many one key may send at once.
const BODY_INTAKE = { maxBufferedBytes: 256 * 1024 * 1024, maxUploadsPerKey: 32 };

// Requests with an unknown key or token one client address may make a minute (per task) before it
// waits out the minute: a misconfigured Claude Code retries a few times a minute, a key guesser far more.
const UNAUTHENTICATED_PER_MINUTE = 300;

// Plan readings are stored at most this often per task, however many answers carried them.
const PLAN_WINDOW_WRITE_INTERVAL_MS = 1_000;

/**
 * Node's closeIdleConnections() leaves connections that never sent a request (opened ahead by a
 * client's pool or a load balancer), so a draining server.close() would wait for the client to give
 * them up. The returned function closes those that have been silent for `silentMs`.
 */
function trackUnusedConnections(server: Server): (silentMs: number) => void {
  const opened = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    opened.set(socket, Date.now());
    socket.once('close', () => opened.delete(socket));
  });
  return (silentMs) => {
    const now = Date.now();
    for (const [socket, at] of opened) if (socket.bytesRead === 0 && now - at >= silentMs) socket.destroy();
  };
}

/** Wires config, secrets and an open (migrated) database into a ready server. Used by main.ts and tests. */
export async function createApp(config: Config, secrets: Secrets, database: Database, logger: Logger): Promise<App> {
  const hashKey = createAccessKeyHasher(secrets.keyHasherSecret);
  const accessKeys = createAccessKeyRepository(database.db);
  const users = createUserRepository(database.db);
  const resolver = createAccessKeyResolver({ isWellFormed: isAccessKeyFormat, hash: hashKey, lookup: (hash) => accessKeys.findUsable(hash) });
  // Each pool may open as many connections as calls the proxy admits (MAX_UPSTREAM_REQUESTS): a
  // smaller pool would queue admitted streams out of sight, and a stream holds its connection.
  const connections = config.maxUpstreamRequests;
  const plan = createPlanUpstream({ baseUrl: config.planApiUrl, firstByteTimeoutMs: config.planFirstByteTimeoutMs, connections });
  const bedrock = createBedrockUpstream({ mode: config.bedrockApi, auth: config.bedrockAuth, endpoint: config.bedrockEndpoint, maxSockets: connections });
  const modelMappings = await createModelMappingCache({
    load: () => createModelMappingRepository(database.db).list(),
    onError: (err) => logger.warn({ err }, 'model mappings refresh failed; keeping the last ones'),
  });
  let draining = false;
  let drainDeadline = Infinity;
  const startDraining = () => {
    if (draining) return;
    draining = true;
    // Up to 5 s of the budget stay for flushing usage and exiting before the orchestrator's SIGKILL.
    drainDeadline = Date.now() + config.shutdownDrainMs - Math.min(5_000, config.shutdownDrainMs / 4);
  };
  const inFlight = createInFlight(config.maxUpstreamRequests);
  const planWindows = createPlanWindows();
  const addressFailures = createAddressFailures({ max: UNAUTHENTICATED_PER_MINUTE });
  const metrics = createMetrics({
    mode: config.metrics,
    flushIntervalMs: config.metricsFlushIntervalMs,
    logger,
    gauges: {
      circuitsOpen: () => breakers.list().filter((c) => c.state !== 'closed').length,
      upstreamRequestsInFlight: () => inFlight.size,
      draining: () => (draining ? 1 : 0),
      planKeysParked: () => planWindows.parkedKeys({ threshold: config.planSwitchThreshold, overage: 'move' }),
      planKeysRead: () => planWindows.list().length,
      planUtilization5hMax: () => planWindows.maxUtilization('five_hour'),
      planUtilization7dMax: () => planWindows.maxUtilization('seven_day'),
    },
  });
  const breakers = createCircuitBreakers({
    threshold: config.circuitFailureThreshold,
    windowMs: 60_000,
    resetMs: config.circuitResetTimeoutMs,
    onOpen: (accessKeyId, reason) => {
      metrics.circuitOpened();
      logger.warn({ accessKeyId, reason }, 'circuit breaker opened: this key skips Anthropic until a probe succeeds');
    },
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
  const accounting = await createAccountingServices({ db: database.db, timeZone: config.timezone, logger });
  const planWindowRows = createPlanWindowRepository(database.db);
  const planWindowSync = startPlanWindowSync({
    windows: planWindows,
    intervalMs: PLAN_WINDOW_WRITE_INTERVAL_MS,
    logger,
    store: {
      save: (entries) =>
        database.db.transaction(async (tx) => {
          await createPlanWindowRepository(tx).save(entries.map((e) => ({ ...e, observedAt: new Date(e.observedAt) })));
          await changes.publish(tx, [{ topic: 'plan_window' }]);
        }),
      changedSince: async (since) => (await planWindowRows.changedSince(since)).map((r) => ({ ...r, observedAt: r.observedAt.getTime() })),
    },
  });
  await planWindowSync.load();
  changes.subscribe(cacheCoherence({ resolver, bedrockKeys, breakers, planWindows, planWindowSync, modelMappings, prices: accounting.prices }));
  await changes.start();
  const transact = createTransact({ db: database.db, changes });
  const adminTokens = createAdminTokenRepository(database.db);
  // The old key already stops at its expiry; the sweep only has to record it, so a few seconds late is fine.
  const sweeper = startSweeper({ transact, tokens: adminTokens, intervalMs: Math.min(5_000, Math.max(200, config.keyRotationGraceMs / 4)), logger });
  const recorder = new UsageRecorder({
    repository: accounting.usage,
    price: accounting.price,
    spillFile: path.join(config.dataDir, 'usage-spill.jsonl'),
    // What a hard crash can lose (README, "Restarts and bounds"): 250 ms of events, 50 ms in an outage.
    flushIntervalMs: 250,
    spillIntervalMs: 50,
    logger,
  });
  recorder.start();

  const server = await buildServer({
    logger,
    prometheus: metrics.prometheus,
    proxy: {
      resolver,
      plan,
      bedrock,
      bedrockKeys,
      bedrockAuth: config.bedrockAuth,
      bedrockRegion: config.bedrockRegion,
      modelMappings: modelMappings.current,
      breakers,
      budgets: { gate: accounting.budgets, timeZone: config.timezone },
      userLimits: createUserLimiter(),
      recorder,
      planApiKey: config.planApiKey,
      pingIntervalMs: config.streamPingIntervalMs,
      metrics,
      inFlight,
      finalFailures: createFinalFailures(),
      addressFailures,
      bodyIntake: createBodyIntake({ ...BODY_INTAKE, minBytesPerSecond: config.bodyMinBytesPerSecond, graceMs: config.bodyRateGraceMs }),
      planWindows,
      planSwitchThreshold: config.planSwitchThreshold,
      sessions: createSessionAffinity({ warmMs: config.sessionStickyMs }),
    },
    admin: {
      users,
      accessKeys,
      resolver,
      bedrockKeys: bedrockKeyRows,
      envelope,
      bedrockKeyCache: bedrockKeys,
      breakers,
      planWindows,
      planSwitchThreshold: config.planSwitchThreshold,
      bedrockAuth: config.bedrockAuth,
      hashKey,
      admin: secrets.admin,
      jwtKey: deriveJwtKey(secrets.keyHasherSecret, secrets.jwtSecret),
      addressFailures,
      loginLimiter: createLoginLimiter({ attempts: createLoginAttemptRepository(database.db), onSweepError: (err) => logger.warn({ err }, 'login attempt sweep failed') }),
      transact,
      audit: createAuditRepository(database.db),
      tokens: adminTokens,
      apiTokens: createApiTokenRepository(database.db),
      modelMappings: createModelMappingRepository(database.db),
      keyRotationGraceMs: config.keyRotationGraceMs,
      corsOrigins: config.corsOrigins,
      version: packageVersion(),
      accounting,
      developerMaxKeys: config.developerMaxKeys,
      oidc: oidcSettings(config),
      userIdentities: createUserIdentityRepository(database.db),
    },
    status: {
      timeZone: config.timezone,
      bedrockSpend: cachedSpend(async (userId) => {
        const monthStart = startOf(new Date(), 'month', config.timezone);
        const row = await accounting.budgetRows.status(userId, monthStart);
        return { spentUsd: row?.spentUsd ?? '0', budgetUsd: row?.monthlyBudgetUsd ?? null, resetsAt: addUnits(monthStart, 'month', 1, config.timezone) };
      }),
    },
    isReady: async () => !draining && (await isMigrated(database)),
  });

  // SCIM provisioning beside the admin API (admin/scim.ts): the identity provider's own door.
  await server.register(scimPlugin, {
    prefix: '/scim/v2',
    apiTokens: createApiTokenRepository(database.db),
    transact,
    identities: createUserIdentityRepository(database.db),
    users,
    logger,
  });

  const closeUnusedConnections = trackUnusedConnections(server.server);
  await warnFallbackReadiness({ bedrockAuth: config.bedrockAuth, prices: accounting.prices, modelMappings: createModelMappingRepository(database.db), accessKeys }, logger);

  return {
    server,
    recorder,
    accounting,
    bedrockKeys,
    resolver,
    breakers,
    planWindows,
    planWindowSync,
    modelMappings,
    changes,
    sweeper,
    metrics,
    startDraining,
    async close() {
      startDraining();
      // Streams still running may finish until the drain deadline; then each gets an Anthropic error
      // event and its upstream call is aborted, and a moment later any connection left is closed. A
      // keep-alive connection whose response ended after close() began would otherwise hold the
      // server open, so sweep idle ones.
      let closeLeft: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => {
        const stopped = inFlight.stopAll();
        if (stopped) logger.warn({ requests: stopped }, 'drain time over: in-flight requests stopped with an error');
        closeLeft = setTimeout(() => server.server.closeAllConnections(), 1000);
      }, Math.max(0, drainDeadline - Date.now()));
      const sweep = setInterval(() => {
        server.server.closeIdleConnections();
        closeUnusedConnections(1_000);
      }, 200);
      await server.close();
      clearTimeout(deadline);
      clearTimeout(closeLeft);
      clearInterval(sweep);
      metrics.close();
      await planWindowSync.close();
      await sweeper.stop();
      await changes.close();
      await recorder.close();
      await plan.close();
      await bedrock.close();
      modelMappings.stop();
      accounting.stop();
      kms?.destroy();
    },
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** The settings from config, or null when no issuer is configured (nothing changes then). */
function oidcSettings(config: Config): OidcSettings | null {
  if (!config.oidcIssuer) return null;
  if (!config.oidcClientId) throw new Error('OIDC_CLIENT_ID: is required when OIDC_ISSUER is set');
  return {
    issuer: config.oidcIssuer,
    clientId: config.oidcClientId,
    clientSecret: config.oidcClientSecret,
    usernameClaim: config.oidcUsernameClaim,
    roleClaim: config.oidcRoleClaim,
    adminValues: config.oidcAdminValues,
    viewerValues: config.oidcViewerValues,
    redirectUrl: config.oidcRedirectUrl,
    requireVerifiedEmail: config.oidcRequireVerifiedEmail,
    selfEnrolment: config.selfEnrolment,
    enrolmentDefaults: { routingStrategy: config.selfEnrolmentRouting, monthlyBudgetUsd: config.selfEnrolmentBudgetUsd ?? null },
  };
}
