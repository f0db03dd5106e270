import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { emptyUsage } from '../accounting/usage.ts';
import type { UsageEvent, UsageOutcome } from '../accounting/usage-event.ts';
import type { UsageRecorder } from '../accounting/recorder.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessKeyResolver, KeyContext } from './access-keys.ts';
import { anthropicErrorBody, anthropicErrorEvent, ProxyError } from './anthropic-errors.ts';
import { clientResponseHeaders, headerValue, planRequestHeaders } from './headers.ts';
import type { PlanUpstream } from './plan-upstream.ts';
import { createJsonTap, createSseTap, type TapResult } from './sse-tap.ts';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ProxyDeps {
  resolver: AccessKeyResolver;
  plan: PlanUpstream;
  recorder: UsageRecorder;
  logger: Logger;
  planApiKey: string | undefined;
}

type Endpoint = UsageEvent['endpoint'];

/** Everything known about one request while it is served; becomes its UsageEvent at the end. */
interface Attempt {
  requestId: string;
  occurredAt: Date;
  startedAt: number;
  key: KeyContext;
  endpoint: Endpoint;
  model: string | null;
  stream: boolean;
}

const ROUTES: [string, Endpoint][] = [
  ['/ak/:key/v1/messages', 'messages'],
  ['/ak/:key/v1/messages/count_tokens', 'count_tokens'],
  // The key may come in an x-proxy-key header instead (ANTHROPIC_CUSTOM_HEADERS), keeping it out of URLs.
  ['/v1/messages', 'messages'],
  ['/v1/messages/count_tokens', 'count_tokens'],
];

/** The Anthropic-compatible surface: /ak/{key}/v1/messages and count_tokens. */
export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  // The body is forwarded as the exact bytes received, whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const error =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new ProxyError('PROXY_BODY_TOO_LARGE', 413, 'request_too_large', `Request body exceeds the ${MAX_BODY_BYTES / 1024 / 1024} MB limit`)
        : err.statusCode && err.statusCode < 500
          ? new ProxyError('PROXY_BAD_REQUEST', err.statusCode, 'invalid_request_error', 'The request could not be read')
          : new ProxyError('PROXY_INTERNAL', 500, 'api_error', 'Internal proxy error');
    if (error.status === 500) deps.logger.error({ err, reqId: request.id }, 'unhandled proxy error');
    return sendError(reply, request.id, error);
  });

  for (const [path, endpoint] of ROUTES) {
    app.post(path, (request, reply) => handle(request as FastifyRequest<{ Params: { key?: string } }>, reply, endpoint, deps));
  }
}

async function handle(
  request: FastifyRequest<{ Params: { key?: string } }>,
  reply: FastifyReply,
  endpoint: Endpoint,
  deps: ProxyDeps,
): Promise<void> {
  const startedAt = performance.now();
  const requestId = request.id;
  const rawKey = request.params.key ?? headerValue(request.headers['x-proxy-key']);

  let key: KeyContext | null = null;
  try {
    key = rawKey ? await deps.resolver.resolve(rawKey) : null;
  } catch (err) {
    deps.logger.error({ err, reqId: requestId }, 'access key lookup failed');
    return sendError(reply, requestId, new ProxyError('PROXY_KEY_LOOKUP_FAILED', 503, 'api_error', 'The proxy cannot check access keys right now'));
  }
  if (!key) {
    deps.logger.info({ reqId: requestId, status: 401, code: 'PROXY_KEY_UNKNOWN' }, 'request rejected');
    // Unknown, revoked and inactive all get this one answer, so keys cannot be probed.
    return sendError(reply, requestId, new ProxyError('PROXY_KEY_UNKNOWN', 401, 'authentication_error', 'Invalid or inactive access key'));
  }

  const attempt: Attempt = { requestId, occurredAt: new Date(), startedAt, key, endpoint, model: null, stream: false };
  const body = request.body;
  const invalid = inspectBody(body, attempt);
  if (invalid) {
    record(deps, attempt, { status: invalid.status, outcome: 'rejected', errorType: invalid.anthropicType });
    return sendError(reply, requestId, invalid);
  }

  const abort = new AbortController();
  const res = reply.raw;
  const onClientClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClientClose);

  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await deps.plan.send({
      path: request.url.slice(request.url.indexOf('/v1/')),
      headers: planRequestHeaders(request.headers, deps.planApiKey),
      body: body as Buffer,
      signal: abort.signal,
    });
  } catch (err) {
    if (abort.signal.aborted) {
      record(deps, attempt, { status: 499, outcome: 'aborted' });
      return reply.hijack();
    }
    const error = err instanceof ProxyError ? err : new ProxyError('PROXY_INTERNAL', 500, 'api_error', 'Internal proxy error');
    record(deps, attempt, { status: error.status, outcome: 'upstream_error', errorType: error.anthropicType, code: error.code });
    return sendError(reply, requestId, error);
  }

  reply.hijack();
  const headers = clientResponseHeaders(upstream.headers);
  headers['request-id'] ??= requestId;
  res.writeHead(upstream.statusCode, headers);
  relay(upstream, res, abort, (outcome, tap, ttfbMs) => {
    const failed = upstream.statusCode >= 400;
    record(deps, attempt, {
      status: upstream.statusCode,
      outcome: failed && outcome === 'completed' ? 'upstream_error' : outcome,
      errorType: tap.errorType ?? null,
      tap,
      ttfbMs,
      upstreamRequestId: headerValue(upstream.headers['request-id']) ?? null,
    });
  });
}

/** Checks the body is a JSON object with a model; notes model and stream. Returns the error to send, if any. */
function inspectBody(body: unknown, attempt: Attempt): ProxyError | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body is empty; expected a JSON object');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body must be a JSON object');
  }
  const fields = parsed as { model?: unknown; stream?: unknown };
  if (typeof fields.model !== 'string' || fields.model === '') {
    return new ProxyError('PROXY_MODEL_MISSING', 400, 'invalid_request_error', 'model: Field required (a non-empty string)');
  }
  attempt.model = fields.model;
  attempt.stream = attempt.endpoint === 'messages' && fields.stream === true;
  return undefined;
}

/**
 * Streams the upstream body to the client unchanged, with backpressure, while a tap reads usage.
 * Calls `done` exactly once: when the client has everything, when it went away, or when the upstream
 * broke off (then an SSE client gets an `error` event if we are between events, else the connection
 * is cut: a half event cannot be closed cleanly, and a fabricated message_stop would lie).
 */
function relay(
  upstream: Dispatcher.ResponseData,
  res: ServerResponse,
  abort: AbortController,
  done: (outcome: UsageOutcome, tap: TapResult, ttfbMs: number | null) => void,
): void {
  const isSse = (headerValue(upstream.headers['content-type']) ?? '').includes('text/event-stream');
  const tap = isSse ? createSseTap() : createJsonTap();
  const body = upstream.body;
  const started = performance.now();
  let ttfbMs: number | null = null;
  let finished = false;
  const finish = (outcome: UsageOutcome) => {
    if (finished) return;
    finished = true;
    done(outcome, tap.result(), ttfbMs);
  };
  const resume = () => body.resume();

  body.on('data', (chunk: Buffer) => {
    ttfbMs ??= Math.round(performance.now() - started);
    tap.push(chunk);
    if (!res.write(chunk)) {
      body.pause();
      res.once('drain', resume);
    }
  });
  body.on('end', () => {
    res.end();
    finish('completed');
  });
  body.on('error', () => {
    if (abort.signal.aborted) return finish('aborted');
    if (isSse && tap.atEventBoundary() && !res.writableEnded) {
      const requestId = headerValue(res.getHeader('request-id') as string | undefined) ?? '';
      res.end(anthropicErrorEvent('api_error', 'The upstream connection was lost mid-stream', requestId));
    } else {
      res.destroy();
    }
    finish('failed');
  });
  res.on('close', () => {
    if (!res.writableFinished && !finished) {
      abort.abort();
      finish('aborted');
    }
  });
}

interface Outcome {
  status: number;
  outcome: UsageOutcome;
  errorType?: string | null;
  code?: string;
  tap?: TapResult;
  ttfbMs?: number | null;
  upstreamRequestId?: string | null;
}

/** Exactly one usage event and one access log line per request. Never throws, never waits. */
function record(deps: ProxyDeps, attempt: Attempt, o: Outcome): void {
  const usage = o.tap?.usage ?? emptyUsage();
  const counts = attempt.endpoint === 'count_tokens' ? emptyUsage() : usage; // count_tokens consumes nothing
  const event: UsageEvent = {
    requestId: attempt.requestId,
    occurredAt: attempt.occurredAt,
    userId: attempt.key.userId,
    accessKeyId: attempt.key.accessKeyId,
    endpoint: attempt.endpoint,
    provider: 'plan',
    isFallback: false,
    fallbackReason: null,
    requestedModel: attempt.model,
    servedModel: o.tap?.model ?? (o.outcome === 'completed' ? attempt.model : null),
    stream: attempt.stream,
    statusCode: o.status,
    outcome: o.outcome,
    errorType: o.errorType ?? null,
    stopReason: o.tap?.stopReason ?? null,
    ...counts,
    latencyMs: Math.round(performance.now() - attempt.startedAt),
    ttfbMs: o.ttfbMs ?? null,
    upstreamRequestId: o.upstreamRequestId ?? null,
  };
  deps.recorder.record(event);
  deps.logger.info(
    {
      reqId: event.requestId,
      upstreamRequestId: event.upstreamRequestId,
      userId: event.userId,
      keyPrefix: attempt.key.keyPrefix,
      provider: event.provider,
      endpoint: event.endpoint,
      model: event.requestedModel,
      stream: event.stream,
      status: event.statusCode,
      outcome: event.outcome,
      code: o.code,
      latencyMs: event.latencyMs,
      ttfbMs: event.ttfbMs,
      inputTokens: event.inputTokens,
      outputTokens: event.outputTokens,
      cacheReadTokens: event.cacheReadTokens,
      cacheWriteTokens: event.cacheWrite5mTokens + event.cacheWrite1hTokens,
    },
    'request',
  );
}

function sendError(reply: FastifyReply, requestId: string, error: ProxyError): FastifyReply {
  return reply
    .code(error.status)
    .headers({ 'request-id': requestId, ...error.headers })
    .type('application/json')
    .send(anthropicErrorBody(error.anthropicType, error.message, requestId));
}
