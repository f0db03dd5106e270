import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { createLogger } from './observability/logger.ts';
import { resolveSecrets } from './secrets.ts';

function fail(message: string): never {
  process.stderr.write(`claude-code-proxy: ${message}\n`);
  process.exit(1);
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

const logger = createLogger(config.logLevel);
// Printed, not logged: the generated admin password must reach the person at the terminal exactly once.
const secrets = await resolveSecrets(config, (message) => process.stdout.write(`\n  ${message}\n\n`));

let database;
try {
  database = await openDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir },
  );
  const applied = await migrate(database);
  if (applied.length) logger.info({ applied }, 'migrations applied');
} catch (err) {
  fail(`database: ${(err as Error).message}`);
}

const app = await createApp(config, secrets, database, logger);
await app.server.listen({ port: config.port, host: config.host });
const { port } = app.server.server.address() as { port: number };
const where = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
logger.info({ url: where, database: database.kind, planApiUrl: config.planApiUrl }, 'claude-code-proxy listening');
if (config.environment === 'dev') {
  process.stdout.write(
    `\n  Claude Code Proxy on ${where}\n` +
      `  Issue a key:  npx ccproxy login && npx ccproxy users add alice && npx ccproxy keys issue alice\n` +
      `  Then:         ANTHROPIC_BASE_URL=${where}/ak/<key> claude\n\n`,
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
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
