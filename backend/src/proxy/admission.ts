import type { FastifyReply, FastifyRequest } from 'fastify';
import { anthropicErrorBody, type ProxyError } from '../anthropic/errors.ts';
import { refusedEvent } from '../observability/metrics.ts';
import type { KeyContext } from './access-keys.ts';
import type { ProxyDeps } from './deps.ts';
import { proxyError } from './errors.ts';
import { headerValue } from '../anthropic/headers.ts';

type Deps = Pick<ProxyDeps, 'resolver' | 'logger' | 'metrics' | 'addressFailures'>;

/**
 * The access key of a request (in the path, or in `x-proxy-key`), from the resolver's memory. When
 * there is none to be had the request is refused here: the same 401 for an unknown, revoked or
 * inactive key, so keys cannot be probed, and a 503 when keys cannot be checked.
 */
export async function authenticate(deps: Deps, request: FastifyRequest<{ Params: { key?: string } }>, reply: FastifyReply): Promise<KeyContext | null> {
  const rawKey = request.params.key ?? headerValue(request.headers['x-proxy-key']);
  const wait = deps.addressFailures.retryAfter(request.ip);
  try {
    // An address past its limit of unknown keys gets no lookups: only keys already in memory work.
    const key = !rawKey ? null : wait > 0 ? deps.resolver.known(rawKey) : await deps.resolver.resolve(rawKey);
    if (key) return key;
  } catch (err) {
    deps.logger.error({ err, reqId: request.id }, 'access key lookup failed');
    refuse(deps, reply, request.id, proxyError('PROXY_KEY_LOOKUP_FAILED'));
    return null;
  }
  // No keep-alive for a request refused before its body was read (proxy/plugin.ts closes it).
  reply.header('connection', 'close');
  if (wait > 0) {
    refuse(deps, reply, request.id, proxyError('PROXY_ADDRESS_LIMIT', wait));
    return null;
  }
  deps.addressFailures.failed(request.ip);
  refuse(deps, reply, request.id, proxyError('PROXY_KEY_UNKNOWN'));
  return null;
}

/** A request refused before it has a usage event (no key yet, unreadable body): one access line and the metrics. */
export function refuse(deps: Pick<Deps, 'logger' | 'metrics'>, reply: FastifyReply, requestId: string, error: ProxyError): FastifyReply {
  const latencyMs = Math.round(reply.elapsedTime);
  deps.logger.info({ reqId: requestId, status: error.status, code: error.code, latencyMs }, 'request rejected');
  deps.metrics.observe(refusedEvent(error.status, error.code, latencyMs));
  return reply
    .code(error.status)
    .headers({ 'request-id': requestId, ...error.headers })
    .type('application/json')
    .send(anthropicErrorBody(error.anthropicType, error.message, requestId));
}
