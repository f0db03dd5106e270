import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { anthropicErrorBody } from './anthropic/errors.ts';

/** One year, subdomains included: what browsers and scanners expect of an HTTPS-only service. */
export const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * What every response gets, whichever part of the server answers it. Set on the raw response at
 * onRequest, so the proxy's hijacked replies (proxy/downstream.ts writes its own head) carry it
 * too: Node merges it into writeHead.
 */
export function httpEdge(app: FastifyInstance): void {
  // The proxy and the admin API have their own error handlers; this one answers for the rest (the
  // dashboard's static files refuse a NUL in a path, /health…), in the shape of the route family,
  // never with an internal message.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err, reqId: request.id }, 'request failed');
    sendError(request, reply, status, status === 500 ? 'Internal server error' : 'The request could not be served');
  });
  // A callback hook, not an async one: it runs on every request, proxy included, and awaits nothing.
  app.addHook('onRequest', (request, reply, done) => {
    // request.protocol reads X-Forwarded-Proto from the ALB (trustProxy in server.ts). Only then:
    // over plain HTTP (a laptop) HSTS means nothing, and must not pin a development host.
    if (request.protocol === 'https') reply.raw.setHeader('strict-transport-security', HSTS);
    done();
  });
}

/**
 * Fastify's `frameworkErrors`: a URL its router cannot read (a bad percent-escape, a path segment
 * over maxParamLength) is refused before any route or error handler runs, by default in Fastify's
 * own shape and echoing the path — which may hold an access key. Here: the shape of the route
 * family asked for, the path not repeated.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment of the URL is too long' : 'The URL could not be read (an invalid percent-escape?)';
  if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
  sendError(request, reply, status, message);
}

function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): void {
  const type = status === 500 ? 'api_error' : status === 404 ? 'not_found_error' : 'invalid_request_error';
  if (request.url.startsWith('/admin')) {
    void reply.code(status).header('cache-control', 'no-store').send({ error: { type, message } });
    return;
  }
  void reply.code(status).header('request-id', request.id).send(anthropicErrorBody(type, message, request.id));
}
