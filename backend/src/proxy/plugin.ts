import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError } from '../anthropic/errors.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import type { KeyContext } from './access-keys.ts';
import { authenticate, refuse } from './admission.ts';
import type { BodyReading } from './body-intake.ts';
import { Cancellation } from './cancellation.ts';
import type { ProxyDeps } from './deps.ts';
import { Downstream } from './downstream.ts';
import { proxyError, requestReadError } from './errors.ts';
import { Exchange, type Endpoint } from './exchange.ts';
import { serve } from './serve.ts';
import { userLimitError } from './user-limits.ts';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The proxy request's access key, resolved before its body is read. */
    proxyKey: KeyContext | null;
    /** Its body's reading under the intake's bounds, once started. */
    proxyBody: BodyReading | null;
  }
}
/**
 * How deep a body's JSON may nest (the body object is level 1). Claude Code's own bodies reach 11
 * (backend/test/fixtures/claude-code/replay); MCP tool schemas add a few levels more. The Bedrock
 * translation and the thinking provenance walk bodies recursively, so a deeper body would overflow
 * the stack there: it is refused once, here, for every route.
 */
export const MAX_JSON_DEPTH = 128;
/** Model ids and Bedrock ARNs are well under this. */
const MAX_MODEL_LENGTH = 256;
/** Control characters and unpaired surrogates. */
const UNSTORABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

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
    const error = err instanceof ProxyError ? err : requestReadError(err, MAX_BODY_BYTES);
    if (error.status === 500) deps.logger.error({ err, reqId: request.id }, 'unhandled proxy error');
    // A body the proxy stopped reading (too slow, over a bound) leaves the connection unusable.
    if (request.proxyBody !== null) reply.header('connection', 'close');
    return refuse(deps, reply, request.id, error);
  });

  // The key first, from the path or a header: an unknown key is answered (and its connection
  // closed) before a byte of its body is read.
  app.decorateRequest('proxyKey', null);
  app.decorateRequest('proxyBody', null);
  app.addHook('onRequest', async (request: FastifyRequest<{ Params: { key?: string } }>, reply) => {
    const key = await authenticate(deps, request, reply);
    if (!key) return closeUnread(request, reply);
    request.proxyKey = key;
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    const key = request.proxyKey!;
    const declared = Number(request.headers['content-length']);
    const reading = deps.bodyIntake.start(key.accessKeyId, Number.isFinite(declared) ? declared : null);
    if (reading instanceof ProxyError) {
      reply.header('connection', 'close');
      refuse(deps, reply, request.id, reading);
      return closeUnread(request, reply);
    }
    request.proxyBody = reading;
    reply.raw.once('close', () => reading.release());
    return reading.wrap(payload);
  });

  for (const [path, endpoint] of ENDPOINTS) {
    app.post(path, (request, reply) => handle(request as FastifyRequest<{ Params: { key?: string } }>, reply, endpoint, deps));
  }
}

/** Authenticates, parses and admits the request, then serves it; every path ends in one usage event. */
async function handle(request: FastifyRequest<{ Params: { key?: string } }>, reply: FastifyReply, endpoint: Endpoint, deps: ProxyDeps): Promise<void> {
  const startedAt = performance.now();
  const key = request.proxyKey!;

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

/**
 * After a refusal sent before the body was read: the connection closes once the answer is out, and
 * a client still sending is cut a second later rather than drained.
 */
function closeUnread(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!reply.sent) return reply;
  const socket = request.raw.socket;
  const cutIfUnread = () => {
    if (!request.raw.complete) setTimeout(() => socket.destroy(), 1_000).unref();
  };
  // The answer may be out already (a small one is written at once).
  if (reply.raw.writableFinished) cutIfUnread();
  else reply.raw.once('finish', cutIfUnread);
  return reply;
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
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) return proxyError('PROXY_JSON_TOO_DEEP', MAX_JSON_DEPTH);
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') return proxyError('PROXY_MODEL_MISSING');
  // The model goes into the usage row: PostgreSQL refuses NUL and lone surrogates there, and one
  // such row would fail its whole batch (the fuzz suite, test/fuzz/properties.ts, found it).
  if (model.length > MAX_MODEL_LENGTH || UNSTORABLE.test(model)) return proxyError('PROXY_MODEL_INVALID', MAX_MODEL_LENGTH);
  return parsed as AnthropicRequest;
}

/** Whether `root` has objects or arrays nested more than `max` levels; iterative, so any depth is safe to check. */
function nestsDeeperThan(root: object, max: number): boolean {
  // Two parallel stacks rather than one of pairs: no allocation per node on the hot path.
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
