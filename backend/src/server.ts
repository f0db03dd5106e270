import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminPlugin, type AdminDeps } from './admin/plugin.ts';
import { registerDashboard } from './dashboard/plugin.ts';
import { frameworkErrors, httpEdge } from './http-edge.ts';
import { observeHttp } from './observability/http.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import { anthropicErrorBody } from './anthropic/errors.ts';
import { gatewayEndpoints } from './proxy/gateway-endpoints.ts';
import type { ProxyDeps } from './proxy/deps.ts';
import { MAX_BODY_BYTES, proxyPlugin } from './proxy/plugin.ts';
import { statusRoutes, type StatusDeps } from './proxy/status-line.ts';

const REQUEST_TIMEOUT_MS = 300_000;
const HEADERS_TIMEOUT_MS = 20_000;
const MAX_CONNECTIONS = 10_000;

export interface ServerDeps {
  logger: Logger;
  proxy: Omit<ProxyDeps, 'logger'>;
  /** The developer's status line (proxy/status-line.ts): this month's Bedrock spend, and the zone times are shown in. */
  status: Pick<StatusDeps, 'bedrockSpend' | 'timeZone'>;
  admin: Omit<AdminDeps, 'logger'>;
  /** Resolves when the database answers and every migration is applied. */
  isReady: () => Promise<boolean>;
  /** GET /metrics when Prometheus is enabled. */
  prometheus?: Metrics['prometheus'];
  /** The built dashboard (default backend/public). */
  dashboardDir?: string;
}

/** The whole HTTP surface; never listens (main.ts and tests decide where). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Routes write one access line each, with the key redacted; Fastify's own two per request would not be.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req_${randomUUID().replaceAll('-', '')}`,
    bodyLimit: MAX_BODY_BYTES,
    keepAliveTimeout: 610_000, // above the ALB's idle timeout (600 s in infra), so the ALB closes idle connections first
    // The whole request (headers and body, not the answer: a stream may run for many minutes) must
    // arrive within this; a 32 MB body needs 1 Mbit/s for it.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // One hop, the ALB: the client address is the last X-Forwarded-For entry (the one the ALB
    // appended), so a client cannot pick its own address for the login limit or the audit log.
    trustProxy: (_address: string, hop: number) => hop < 1,
    frameworkErrors, // an unreadable URL: answered in the route family's shape (http-edge.ts)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allowUnionTypes: true } },
  });

  // Headers that never finish are cut early; the connection cap stays below the file descriptors a
  // task has, so a flood of connections is refused rather than taking every descriptor.
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  app.server.maxConnections = MAX_CONNECTIONS;
  observeHttp(app, { logger: deps.logger, prometheus: deps.prometheus });
  httpEdge(app);
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const ready = await deps.isReady().catch(() => false);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });

  await app.register(proxyPlugin, { ...deps.proxy, logger: deps.logger });
  await app.register(gatewayEndpoints, { ...deps.proxy, logger: deps.logger });
  await app.register(statusRoutes, { ...deps.proxy, ...deps.status, logger: deps.logger });
  await app.register(adminPlugin, { prefix: '/admin', ...deps.admin, logger: deps.logger });
  const dashboard = await registerDashboard(app, deps.dashboardDir);

  app.setNotFoundHandler((request, reply) => {
    // A dashboard page opened by its address (/users/…): the app routes it in the browser.
    if (dashboard.wantsPage(request)) return dashboard.sendPage(reply);
    if (request.url.startsWith('/admin/') || request.url === '/admin') {
      return reply.code(404).send({ error: { type: 'not_found_error', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
    }
    // Anthropic's shape; the path is not echoed, since it may hold an access key.
    return reply.code(404).header('request-id', request.id).send(anthropicErrorBody('not_found_error', 'Not found', request.id));
  });
  return app;
}
