import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError } from '../anthropic/errors.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import { authenticate, refuse } from './admission.ts';
import { Cancellation } from './cancellation.ts';
import type { ProxyDeps } from './deps.ts';
import { Downstream } from './downstream.ts';
import { proxyError, requestReadError } from './errors.ts';
import { Exchange, type Endpoint } from './exchange.ts';
import { serve } from './serve.ts';
import { userLimitError } from './user-limits.ts';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

const ENDPOINTS: [string, Endpoint][] = [
  ['/ak/:key/v1/messages', 'messages'],
  ['/ak/:key/v1/messages/count_tokens', 'count_tokens'],
  // The key may come in an x-proxy-key header instead (ANTHROPIC_CUSTOM_HEADERS), keeping it out of URLs.
  ['/v1/messages', 'messages'],
  ['/v1/messages/count_tokens', 'count_tokens'],
];

/** The Anthropic-compatible surface: /ak/{key}/v1/messages and count_tokens. */
export async function proxyPlugin(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  // The body is forwarded as the exact bytes received, whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const error = requestReadError(err, MAX_BODY_BYTES);
    if (error.status === 500) deps.logger.error({ err, reqId: request.id }, 'unhandled proxy error');
    return refuse(deps, reply, request.id, error);
  });

  for (const [path, endpoint] of ENDPOINTS) {
    app.post(path, (request, reply) => handle(request as FastifyRequest<{ Params: { key?: string } }>, reply, endpoint, deps));
  }
}

/** Authenticates, parses and admits the request, then serves it; every path ends in one usage event. */
async function handle(request: FastifyRequest<{ Params: { key?: string } }>, reply: FastifyReply, endpoint: Endpoint, deps: ProxyDeps): Promise<void> {
  const startedAt = performance.now();
  const key = await authenticate(deps, request, reply);
  if (!key) return;

  reply.hijack();
  const res = reply.raw;
  const abort = new Cancellation();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  const parsed = parseBody(body);
  const bad = parsed instanceof ProxyError;
  const x = new Exchange(deps, request, key, endpoint, body, bad ? ({} as AnthropicRequest) : parsed, new Downstream(res, startedAt), abort, startedAt);
  if (bad) return x.refuse(parsed);

  const limit = endpoint === 'messages' ? deps.userLimits.enter(key.userId, key) : null;
  if (limit && !limit.admitted) return x.refuse(userLimitError(limit));
  const leave = deps.inFlight.enter(() => x.stopForShutdown(proxyError('PROXY_SHUTTING_DOWN')));
  if (!leave) {
    limit?.release();
    return x.refuse(proxyError('PROXY_OVERLOADED', deps.inFlight.max));
  }
  if (x.stream) x.down.startPings(deps.pingIntervalMs);
  try {
    await serve(x);
  } catch (err) {
    deps.logger.error({ err, reqId: request.id }, 'proxy request failed');
    x.fail(proxyError('PROXY_INTERNAL'), 'failed');
  } finally {
    leave();
    limit?.release();
  }
}

/** Parses the body once: a JSON object with a model. Returns the error to send otherwise. */
function parseBody(body: Buffer): AnthropicRequest | ProxyError {
  if (body.length === 0) return proxyError('PROXY_BAD_JSON', 'Request body is empty; expected a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return proxyError('PROXY_BAD_JSON', 'Request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return proxyError('PROXY_BAD_JSON', 'Request body must be a JSON object');
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') return proxyError('PROXY_MODEL_MISSING');
  return parsed as AnthropicRequest;
}
