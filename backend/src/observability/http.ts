import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export interface HttpObservability {
  logger: Logger;
  /** Served at GET /metrics when Prometheus is enabled. */
  prometheus: Metrics['prometheus'];
}

/**
 * What every HTTP response gets besides the proxy's own work, wired without a hook on the proxy's
 * hot path (the proxy hijacks its replies and writes its own request-id and access line):
 * - a `request-id` header on every reply Fastify sends (admin, health, 404s, refusals), so a client
 *   can quote the id an operator finds in the logs;
 * - one access line per admin API request (route pattern, status, latency, admin, client address);
 * - GET /metrics (Prometheus text format) when enabled.
 * Call before any route is registered.
 */
export function observeHttp(app: FastifyInstance, options: HttpObservability): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('request-id')) reply.header('request-id', request.id);
    return payload;
  });

  const accessLine: onResponseHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    options.logger.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime),
        admin: (request as { admin?: string }).admin ?? null,
        ip: request.ip,
        traceId: request.headers['x-amzn-trace-id'] ?? null,
      },
      'admin request',
    );
  };
  // Route-level hooks, added as admin routes are declared: other routes pay nothing.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/admin')) return;
    const existing = route.onResponse ? (Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]) : [];
    route.onResponse = [...existing, accessLine];
  });

  const prometheus = options.prometheus;
  if (prometheus) {
    app.get('/metrics', async (_request, reply) => reply.type(prometheus.contentType).send(await prometheus.render()));
  }
}
