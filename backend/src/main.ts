import fs from 'node:fs';
import net from 'node:net';
import { createApp } from './app.ts';
import { ConfigError, isSet, loadConfig, settleTimeZone, type Config } from './config.ts';
import { prepareDatabaseAsAdmin } from './db/app-role.ts';
import { openDatabase } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { createSettingsRepository } from './db/settings-repository.ts';
import type { DatabaseTls } from './db/tls.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { resolveSecrets } from './secrets.ts';
import { scrubInitialEnvironment } from './security/initial-environment.ts';

/** The TLS settings of the database connections; the CA bundle is read here, once. */
function databaseTls(config: Config): DatabaseTls {
  return { mode: config.databaseSslMode, ...(config.databaseCaFile ? { ca: fs.readFileSync(config.databaseCaFile, 'utf8') } : {}) };
}

/** A refused certificate says which settings refused it; other errors are PostgreSQL's own words. */
function databaseProblem(err: NodeJS.ErrnoException, config: Config): string {
  const certificate = err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SIGNED|SIGNATURE/.test(err.code ?? '');
  if (!certificate) return err.message;
  const against = config.databaseCaFile ? `DATABASE_CA_FILE ${config.databaseCaFile}` : "Node's own root certificates (DATABASE_CA_FILE unset)";
  return `the database's TLS certificate was refused (DATABASE_SSL_MODE=${config.databaseSslMode}, checked against ${against}): ${err.message}`;
}

/**
 * With DATABASE_ADMIN_URL: the master login migrates and sets up the application's role, and its
 * pool is closed (db/app-role.ts). Returns whether it migrated.
 *
 * The URL is first taken out of the config object (undefined from here on) and the environment
 * (process.env, and the bytes the process started with: security/initial-environment.ts), so it
 * lives in this call alone: nothing that runs, logs or writes a diagnostic report later can reach
 * the master secret, only the application role's login.
 */
async function prepareAsMaster(config: Config, tls: DatabaseTls, logger: Logger): Promise<boolean> {
  const adminUrl = config.databaseAdminUrl;
  config.databaseAdminUrl = undefined;
  if (process.env.DATABASE_ADMIN_URL !== undefined) {
    delete process.env.DATABASE_ADMIN_URL;
    scrubInitialEnvironment('DATABASE_ADMIN_URL');
  }
  if (!adminUrl || !config.databaseUrl) return false;
  const prepared = await prepareDatabaseAsAdmin({ adminUrl, appUrl: config.databaseUrl, tls });
  if (prepared.applied.length) logger.info({ applied: prepared.applied }, 'migrations applied');
  logger.info({ role: prepared.role, created: prepared.created }, 'application database role ready');
  return true;
}

function fail(message: string): never {
  process.stderr.write(`claude-code-proxy: ${message}\n`);
  process.exit(1);
}

/** A listen error in words: the one line an operator needs, never a stack trace. */
function listenProblem(err: NodeJS.ErrnoException, port: number, host: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `Port ${port} on ${host} is in use; set PORT=<another port> or stop the other process`;
    case 'EACCES':
      return `Port ${port} on ${host} needs privileges this process lacks; set PORT to 1024 or above`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `HOST ${host} is not an address of this machine; set HOST=127.0.0.1 or 0.0.0.0`;
    default:
      return `cannot listen on port ${port} of ${host}: ${err.message}`;
  }
}

/**
 * Binds the port for a moment and lets it go: a port in use fails here, before the data directory,
 * the database, the secrets file or an admin password are created (they would be for nothing).
 */
async function portProblem(port: number, host: string): Promise<string | null> {
  if (port === 0) return null;
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(listenProblem(err, port, host)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}

// What `npx ccproxy` talks to without --url or CCPROXY_URL (cli/main.ts).
const CLI_DEFAULT_URL = 'http://127.0.0.1:8000';

/** The dev banner: where the proxy and the dashboard are, and the CLI lines that reach them. */
function banner(where: string): string {
  const url = where === CLI_DEFAULT_URL ? '' : ` --url ${where}`;
  const cli = url
    ? `npx ccproxy login${url}\n                npx ccproxy users add alice${url}\n                npx ccproxy keys issue alice${url}\n` +
      `                (or export CCPROXY_URL=${where} and leave out --url)`
    : 'npx ccproxy login && npx ccproxy users add alice && npx ccproxy keys issue alice';
  return (
    `\n  Claude Code Proxy on ${where}\n` +
    `  Dashboard:    ${where}/\n` +
    `  Issue a key:  ${cli}\n` +
    `  Then:         ANTHROPIC_BASE_URL=${where}/ak/<key> claude\n\n`
  );
}

// Output that nobody reads any more (a closed pipe) must not stop a proxy serving traffic: the
// lines are lost, the requests are not.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}

const busy = await portProblem(config.port, config.host);
if (busy) fail(busy);

const logger = createLogger(config.logLevel);
// Printed, not logged: the generated admin password must reach the person at the terminal exactly once.
const secrets = await resolveSecrets(config, (message) => process.stdout.write(`\n  ${message}\n\n`));

let database;
try {
  const tls = databaseTls(config);
  const migrated = await prepareAsMaster(config, tls, logger);
  database = await openDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl, tls } : { kind: 'pglite', dataDir: config.dataDir },
  );
  // The application role may not change the schema: with DATABASE_ADMIN_URL the master migrated above.
  if (!migrated) {
    const applied = await migrate(database);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  }
} catch (err) {
  fail(`database: ${databaseProblem(err as NodeJS.ErrnoException, config)}`);
}

// The database keeps the zone its rollups were cut in (config.ts, settleTimeZone).
try {
  const settings = createSettingsRepository(database.db);
  const stored = await settings.timeZone();
  const { zone, record } = settleTimeZone({ zone: config.timezone, set: isSet('TIMEZONE') }, stored);
  if (record) await settings.recordTimeZone(zone);
  if (record && stored.hasZonedData) logger.warn({ timezone: zone }, 'recorded the time zone of the rollups already in this database');
  else if (zone !== config.timezone) logger.info({ timezone: zone }, 'using the time zone recorded for this database');
  config = { ...config, timezone: zone };
} catch (err) {
  fail(err instanceof ConfigError ? err.message : `database: ${(err as Error).message}`);
}

const app = await createApp(config, secrets, database, logger);
try {
  await app.server.listen({ port: config.port, host: config.host });
} catch (err) {
  // Taken between the check above and now.
  fail(listenProblem(err as NodeJS.ErrnoException, config.port, config.host));
}
const { port } = app.server.server.address() as { port: number };
const shownHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host;
const where = `http://${shownHost}:${port}`;
logger.info({ url: where, pid: process.pid, database: database.kind, planApiUrl: config.planApiUrl, timezone: config.timezone }, 'claude-code-proxy listening');
if (config.environment === 'dev') process.stdout.write(banner(where));

let stopping: { signal: string; at: number } | undefined;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    // A Ctrl-C reaches every process of the terminal's foreground group, and `npm start` forwards
    // its own copy too: the same SIGINT within a second is that one keypress, not a second one.
    if (signal === 'SIGINT' && stopping.signal === 'SIGINT' && Date.now() - stopping.at < 1_000) return;
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = { signal, at: Date.now() };
  app.startDraining();
  // SIGTERM comes from the orchestrator: /ready already answers 503, so keep accepting for a moment
  // while the load balancer takes this task out of service. A Ctrl-C stops accepting at once.
  const acceptingMs = signal === 'SIGTERM' ? config.shutdownDelayMs : 0;
  logger.info({ signal, acceptingMs, drainMs: config.shutdownDrainMs }, 'shutting down: /ready answers 503; in-flight requests may finish');
  try {
    if (acceptingMs > 0) await new Promise((resolve) => setTimeout(resolve, acceptingMs));
    logger.info('no longer accepting connections; draining');
    await app.close();
    // The usage queue is already flushed (or spilled to a file); a pool waiting on a connection that
    // died mid-use must not keep the task alive until SIGKILL.
    const closed = await Promise.race([
      database!.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, 5_000, false).unref()),
    ]);
    if (!closed) logger.warn('database did not close within 5 s; exiting anyway');
    logger.info('shutdown complete');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
