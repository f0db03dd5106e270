import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { emptyUsage, type TokenUsage } from '../anthropic/usage.ts';
import type { UsageEvent, UsageOutcome } from '../accounting/usage-event.ts';
import type { UsageRecorder } from '../usage/recorder.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import { mapBedrockError } from '../bedrock/errors.ts';
import type { ModelMapping } from '../bedrock/models.ts';
import { parseBetaHeader } from '../bedrock/betas.ts';
import { historyFor, type History } from '../bedrock/thinking-provenance.ts';
import { BedrockCallError, COUNT_TOKENS_UNSUPPORTED, type BedrockUpstream } from '../bedrock/upstream.ts';
import type { Logger } from '../observability/logger.ts';
import { refusedEvent, type Metrics } from '../observability/metrics.ts';
import type { AccessKeyResolver, KeyContext } from './access-keys.ts';
import { reserveBedrockBudget, type BudgetCheck } from './budget-check.ts';
import { userLimitError, type UserLimiter } from './user-limits.ts';
import { anthropicErrorBody, anthropicErrorEvent, ProxyError, type AnthropicErrorType } from '../anthropic/errors.ts';
import type { CircuitBreakers } from './circuit-breaker.ts';
import { Cancellation } from './cancellation.ts';
import { Downstream } from './downstream.ts';
import type { FinalFailures } from './final-failures.ts';
import type { InFlight } from './in-flight.ts';
import { clientResponseHeaders, headerValue, planRequestHeaders } from './headers.ts';
import type { PlanUpstream } from './plan-upstream.ts';
import { classifyPlanFailure, classifyPlanStatus, type FallbackReason, type PlanVerdict } from './router.ts';
import { createJsonTap, createSseTap, type TapResult } from './sse-tap.ts';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';

export interface ProxyDeps {
  resolver: AccessKeyResolver;
  plan: PlanUpstream;
  bedrock: BedrockUpstream;
  /** The access key's decrypted Bedrock API key, or null when none is registered. */
  bedrockKeys: { get(accessKeyId: string): Promise<string | null> };
  /** `sigv4`: the task role signs Bedrock calls, so no per-key Bedrock API key is needed. */
  bedrockAuth: 'bearer' | 'sigv4';
  bedrockRegion: string;
  modelMappings: () => readonly ModelMapping[];
  breakers: CircuitBreakers;
  /** Monthly Bedrock budgets: a reservation before each Bedrock call of a budgeted user. */
  budgets: Omit<BudgetCheck, 'logger'>;
  /** Optional per-user requests-per-minute and in-flight limits (in memory, per process). */
  userLimits: UserLimiter;
  recorder: UsageRecorder;
  logger: Logger;
  planApiKey: string | undefined;
  pingIntervalMs: number;
  /** Request metrics (CloudWatch EMF, Prometheus): each request's usage event, and every refusal. */
  metrics: Pick<Metrics, 'observe'>;
  /** Requests holding an upstream call: capped (MAX_UPSTREAM_REQUESTS), stopped when a drain runs out. */
  inFlight: InFlight;
  /** Failures of both upstreams told to a stream as an SSE error, for the client's non-streaming re-send. */
  finalFailures: FinalFailures;
}

type Endpoint = UsageEvent['endpoint'];

/** Everything known about one request while it is served; becomes its UsageEvent at the end. */
interface Ctx {
  deps: ProxyDeps;
  request: FastifyRequest;
  requestId: string;
  occurredAt: Date;
  startedAt: number;
  key: KeyContext;
  endpoint: Endpoint;
  body: Buffer;
  parsed: AnthropicRequest;
  stream: boolean;
  down: Downstream;
  abort: Cancellation;
  /** Set when a shutdown drain ran out of time for this request: the error, and the status the client got. */
  stoppedBy: { error: ProxyError; status: number } | null;
  /** Whether an SSE error event can be written now without cutting an upstream event in half. */
  atEventBoundary: () => boolean;
  provider: 'plan' | 'bedrock';
  fallbackReason: FallbackReason | null;
  /** Budget held for this request's Bedrock call; settled when its usage event is stored. */
  budgetReservationId: number | null;
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
    return refuse(deps, reply, request.id, error);
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
    return refuse(deps, reply, requestId, new ProxyError('PROXY_KEY_LOOKUP_FAILED', 503, 'api_error', 'The proxy cannot check access keys right now'));
  }
  if (!key) {
    // Unknown, revoked and inactive all get this one answer, so keys cannot be probed.
    return refuse(deps, reply, requestId, new ProxyError('PROXY_KEY_UNKNOWN', 401, 'authentication_error', 'Invalid or inactive access key'));
  }

  reply.hijack();
  const res = reply.raw;
  const abort = new Cancellation();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const down = new Downstream(res, startedAt);
  const body = request.body as Buffer | undefined;
  const parsed = parseBody(body);
  const ctx: Ctx = {
    deps,
    request,
    requestId,
    occurredAt: new Date(),
    startedAt,
    key,
    endpoint,
    body: body ?? Buffer.alloc(0),
    parsed: parsed instanceof ProxyError ? ({} as AnthropicRequest) : parsed,
    stream: !(parsed instanceof ProxyError) && endpoint === 'messages' && parsed.stream === true,
    down,
    abort,
    stoppedBy: null,
    atEventBoundary: () => true,
    provider: 'plan',
    fallbackReason: null,
    budgetReservationId: null,
  };
  if (parsed instanceof ProxyError) {
    return reject(ctx, parsed);
  }
  const limit = endpoint === 'messages' ? deps.userLimits.enter(key.userId, key) : null;
  if (limit && !limit.admitted) {
    const error = userLimitError(limit);
    return reject(ctx, error);
  }
  const leave = deps.inFlight.enter(() => stopForShutdown(ctx));
  if (!leave) {
    limit?.release();
    const error = new ProxyError(
      'PROXY_OVERLOADED',
      529,
      'overloaded_error',
      `The proxy is at its limit of ${deps.inFlight.max} concurrent upstream requests (MAX_UPSTREAM_REQUESTS); retry shortly`,
    );
    return reject(ctx, error);
  }
  if (ctx.stream) down.startPings(deps.pingIntervalMs);
  try {
    await route(ctx);
  } catch (err) {
    deps.logger.error({ err, reqId: requestId }, 'proxy request failed');
    const error = new ProxyError('PROXY_INTERNAL', 500, 'api_error', 'Internal proxy error');
    record(ctx, { status: 500, outcome: 'failed', errorType: error.anthropicType, code: error.code });
    if (!down.closed) writeError(ctx, error);
  } finally {
    leave();
    limit?.release();
  }
}

/**
 * The shutdown drain ran out of time: the client gets an error it can retry on (as an SSE `error`
 * event once the stream has begun; mid-event only a cut is honest), and the upstream call is aborted.
 */
function stopForShutdown(ctx: Ctx): void {
  const error = new ProxyError('PROXY_SHUTTING_DOWN', 529, 'overloaded_error', 'The proxy restarted before this response finished; retry the request');
  // A stream already begun stays a 200 with an error event; otherwise the client gets the 529.
  ctx.stoppedBy = { error, status: ctx.down.committed ? 200 : error.status };
  if (!ctx.down.closed) {
    if (ctx.down.committed && !ctx.atEventBoundary()) ctx.down.destroy();
    else writeError(ctx, error);
  }
  ctx.abort.abort();
}

/** Picks the upstream(s) from the user's routing strategy and the key's circuit breaker. */
async function route(ctx: Ctx): Promise<void> {
  const { deps, key } = ctx;
  if (ctx.endpoint === 'count_tokens' && key.routingStrategy === 'bedrock_only') {
    // Bedrock's CountTokens counts (no Anthropic credential here). Where it cannot — no Bedrock key,
    // a model it does not count — a 404: Claude Code then falls back to a local estimate.
    const unavailable = new ProxyError('PROXY_COUNT_TOKENS_UNAVAILABLE', 404, 'not_found_error', 'count_tokens is not available for bedrock_only routing');
    ctx.provider = 'bedrock';
    const credential = await bedrockCredential(ctx);
    if (!credential) return reject(ctx, unavailable);
    let count;
    try {
      count = await deps.bedrock.countTokens({
        request: historyFor(ctx.parsed, 'bedrock').request,
        betaHeader: ctx.request.headers['anthropic-beta'],
        apiKey: credential.apiKey,
        region: key.bedrockRegion ?? deps.bedrockRegion,
        mappings: deps.modelMappings(),
        signal: ctx.abort.signal,
      });
    } catch (err) {
      if (ctx.abort.aborted) return record(ctx, { status: 499, outcome: 'aborted' });
      const failure = err instanceof BedrockCallError ? err.failure : mapBedrockError(err);
      record(ctx, { status: failure.status, outcome: 'upstream_error', errorType: failure.type, code: failure.code });
      if (failure.code === COUNT_TOKENS_UNSUPPORTED) return writeError(ctx, unavailable);
      // Only the mapped failure is logged: a raw SDK error holds the request, Bearer key included.
      if (failure.status >= 500) deps.logger.warn({ reqId: ctx.requestId, code: failure.code, status: failure.status, message: failure.message }, 'Bedrock CountTokens failed');
      return writeError(ctx, new ProxyError(failure.code, failure.status, failure.type, failure.message));
    }
    ctx.down.commit(200, { 'content-type': 'application/json', 'request-id': ctx.requestId });
    ctx.down.end(JSON.stringify({ input_tokens: count.inputTokens }));
    // count_tokens consumes nothing: record() keeps its token counts at zero.
    return record(ctx, { status: 200, outcome: 'completed', servedModel: count.servedModel, upstreamRequestId: count.upstreamRequestId });
  }
  if (key.routingStrategy === 'bedrock_only' && ctx.endpoint === 'messages') {
    const credential = await bedrockCredential(ctx);
    if (!credential) {
      const error = new ProxyError(
        'PROXY_NO_BEDROCK_KEY',
        403,
        'permission_error',
        'This access key routes to Amazon Bedrock (bedrock_only) but has no Bedrock API key registered; ask an admin to register one',
      );
      return reject(ctx, error);
    }
    return serveBedrock(ctx, credential.apiKey, null);
  }

  if (ctx.endpoint === 'messages' && !ctx.stream) {
    const failed = deps.finalFailures.take(key.accessKeyId, ctx.parsed);
    if (failed) {
      ctx.provider = 'bedrock'; // the failure told is Bedrock's, from the stream this re-sends
      record(ctx, { status: failed.status, outcome: 'upstream_error', errorType: failed.anthropicType, code: failed.code });
      return writeError(ctx, failed);
    }
  }
  const mayFallBack = key.routingStrategy === 'plan_first' && ctx.endpoint === 'messages';
  let decision = mayFallBack ? deps.breakers.decide(key.accessKeyId) : 'try';
  if (decision === 'skip') {
    const credential = await bedrockCredential(ctx);
    if (credential) return serveBedrock(ctx, credential.apiKey, 'circuit_open');
    decision = 'try'; // nowhere else to go: Anthropic it is
  }

  const attempt = await tryPlan(ctx);
  if (attempt.kind === 'aborted') {
    if (decision === 'probe') deps.breakers.release(key.accessKeyId);
    return record(ctx, { status: 499, outcome: 'aborted' });
  }
  if (attempt.verdict.action === 'relay') {
    if (mayFallBack) deps.breakers.success(key.accessKeyId);
    return attempt.kind === 'response' ? relayPlan(ctx, attempt.response, attempt.errorBody) : undefined;
  }
  if (mayFallBack) {
    deps.breakers.failure(key.accessKeyId, attempt.verdict.reason, attempt.verdict.openCircuit);
    const credential = await bedrockCredential(ctx);
    if (credential && !ctx.down.closed) return serveBedrock(ctx, credential.apiKey, attempt.verdict.reason);
  }
  // No fallback possible: the client gets Anthropic's answer as it was.
  if (attempt.kind === 'response') return relayPlan(ctx, attempt.response, attempt.errorBody);
  record(ctx, { status: attempt.error.status, outcome: 'upstream_error', errorType: attempt.error.anthropicType, code: attempt.error.code });
  return writeError(ctx, attempt.error);
}

type PlanAttempt =
  | { kind: 'response'; response: Dispatcher.ResponseData; errorBody: Buffer | undefined; verdict: PlanVerdict }
  | { kind: 'failure'; error: ProxyError; verdict: PlanVerdict }
  | { kind: 'aborted' };

/** Sends the client's bytes to Anthropic. Error answers are read whole (they are small) so they can be judged. */
async function tryPlan(ctx: Ctx): Promise<PlanAttempt> {
  const { request } = ctx;
  let response: Dispatcher.ResponseData;
  try {
    response = await ctx.deps.plan.send({ path: request.url.slice(request.url.indexOf('/v1/')), ...planBody(ctx), signal: ctx.abort });
  } catch (err) {
    if (ctx.abort.aborted) return { kind: 'aborted' };
    const error = err instanceof ProxyError ? err : new ProxyError('PLAN_UNREACHABLE', 502, 'api_error', 'Could not reach Anthropic');
    return { kind: 'failure', error, verdict: classifyPlanFailure(error) };
  }
  if (response.statusCode < 400) return { kind: 'response', response, errorBody: undefined, verdict: { action: 'relay' } };
  let errorBody: Buffer;
  try {
    errorBody = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
  } catch {
    if (ctx.abort.aborted) return { kind: 'aborted' };
    errorBody = Buffer.alloc(0);
  }
  return { kind: 'response', response, errorBody, verdict: classifyPlanStatus(response.statusCode, response.headers, errorBody.toString('utf8')) };
}

/**
 * The client's bytes, unless the history holds thinking Anthropic cannot verify (minted by Bedrock
 * earlier in the session): then the body without it, and without the context-management beta
 * when that field had to go too (a beta without its field is refused).
 */
function planBody(ctx: Ctx): { headers: Record<string, string | string[]>; body: Buffer } {
  const headers = planRequestHeaders(ctx.request.headers, ctx.deps.planApiKey);
  const history = historyFor(ctx.parsed, 'anthropic');
  if (history.request === ctx.parsed) return { headers, body: ctx.body };
  logHistoryChange(ctx, 'anthropic', history);
  if (ctx.parsed.context_management && !history.request.context_management) {
    const betas = parseBetaHeader(headers['anthropic-beta']).filter((b) => b !== CONTEXT_MANAGEMENT_BETA);
    if (betas.length > 0) headers['anthropic-beta'] = betas.join(',');
    else delete headers['anthropic-beta'];
  }
  return { headers, body: Buffer.from(JSON.stringify(history.request)) };
}

function logHistoryChange(ctx: Ctx, target: 'anthropic' | 'bedrock', history: History): void {
  ctx.deps.logger.info(
    { reqId: ctx.requestId, keyPrefix: ctx.key.keyPrefix, target, removedThinkingBlocks: history.removedBlocks, thinkingOff: history.thinkingOff },
    'history adjusted for the serving provider',
  );
}

/** Anthropic's answer to the client, byte for byte, while a tap reads its usage. */
function relayPlan(ctx: Ctx, upstream: Dispatcher.ResponseData, errorBody: Buffer | undefined): Promise<void> {
  const { down } = ctx;
  const isSse = (headerValue(upstream.headers['content-type']) ?? '').includes('text/event-stream');
  const tap = isSse ? createSseTap() : createJsonTap();
  ctx.atEventBoundary = () => isSse && tap.atEventBoundary();
  const upstreamRequestId = headerValue(upstream.headers['request-id']) ?? null;
  const status = upstream.statusCode;
  const outcomeFor = (o: UsageOutcome): UsageOutcome => (status >= 400 && o === 'completed' ? 'upstream_error' : o);
  const finish = (outcome: UsageOutcome) =>
    record(ctx, { status, outcome: outcomeFor(outcome), errorType: tap.result().errorType ?? null, tap: tap.result(), upstreamRequestId });

  if (errorBody) {
    tap.push(errorBody);
    if (down.committed) down.end(errorAsEvent(errorBody, ctx.requestId)); // pings already promised a 200 stream
    else {
      down.commit(status, { ...clientResponseHeaders(upstream.headers), 'request-id': upstreamRequestId ?? ctx.requestId });
      down.end(errorBody);
    }
    finish('completed');
    return Promise.resolve();
  }

  const headers = clientResponseHeaders(upstream.headers);
  headers['request-id'] ??= ctx.requestId;
  down.commit(status, headers);
  const body = upstream.body;
  return new Promise<void>((resolve) => {
    let done = false;
    const end = (outcome: UsageOutcome) => {
      if (done) return;
      done = true;
      finish(outcome);
      resolve();
    };
    body.on('data', (chunk: Buffer) => {
      tap.push(chunk);
      const drained = down.write(chunk);
      if (drained) {
        body.pause();
        void drained.then(() => body.resume());
      }
    });
    body.on('end', () => {
      down.end();
      end('completed');
    });
    body.on('error', () => {
      if (ctx.abort.aborted) return end('aborted');
      // Anthropic broke off mid-stream. Between events the client gets an error event (Claude Code
      // then retries without streaming, which can fall back); mid-event only a cut is honest.
      if (isSse && tap.atEventBoundary() && !down.closed) down.end(anthropicErrorEvent('api_error', 'The upstream connection was lost mid-stream', ctx.requestId));
      else down.destroy();
      end('failed');
    });
    ctx.abort.once('abort', () => end('aborted'));
  });
}

/** The Bedrock credential to use: a key's API key, null for SigV4, undefined when this key has none. */
async function bedrockCredential(ctx: Ctx): Promise<{ apiKey: string | null } | undefined> {
  if (ctx.deps.bedrockAuth === 'sigv4') return { apiKey: null };
  try {
    const apiKey = await ctx.deps.bedrockKeys.get(ctx.key.accessKeyId);
    return apiKey ? { apiKey } : undefined;
  } catch (err) {
    ctx.deps.logger.error({ err, reqId: ctx.requestId, keyPrefix: ctx.key.keyPrefix }, 'Bedrock key unavailable');
    return undefined;
  }
}

/** Serves the request from Bedrock, translated back so the client sees what Anthropic would have sent. */
async function serveBedrock(ctx: Ctx, apiKey: string | null, fallbackReason: FallbackReason | null): Promise<void> {
  const { deps, down } = ctx;
  ctx.provider = 'bedrock';
  ctx.fallbackReason = fallbackReason;
  const region = ctx.key.bedrockRegion ?? deps.bedrockRegion;
  const mappings = deps.modelMappings();
  const budget = await reserveBedrockBudget(
    { ...deps.budgets, logger: deps.logger },
    { key: ctx.key, requestId: ctx.requestId, occurredAt: ctx.occurredAt, parsed: ctx.parsed, bodyBytes: ctx.body.length, region, mappings },
  );
  if (budget instanceof ProxyError) {
    return reject(ctx, budget);
  }
  ctx.budgetReservationId = budget.reservationId;
  let response;
  try {
    const history = historyFor(ctx.parsed, 'bedrock');
    if (history.request !== ctx.parsed) logHistoryChange(ctx, 'bedrock', history);
    response = await deps.bedrock.send({
      request: history.request,
      betaHeader: ctx.request.headers['anthropic-beta'],
      stream: ctx.stream,
      apiKey,
      region,
      mappings,
      signal: ctx.abort.signal,
    });
  } catch (err) {
    if (ctx.abort.aborted) return record(ctx, { status: 499, outcome: 'aborted' });
    const failure = err instanceof BedrockCallError ? err.failure : mapBedrockError(err);
    // Only the mapped failure is logged: a raw SDK error holds the request, Bearer key included.
    if (failure.status >= 500) deps.logger.warn({ reqId: ctx.requestId, code: failure.code, status: failure.status, message: failure.message }, 'Bedrock call failed');
    // After a fallback both upstreams have failed: tell the client not to multiply the attempts.
    const error = new ProxyError(failure.code, failure.status, failure.type, failure.message, fallbackReason ? { 'x-should-retry': 'false' } : {});
    record(ctx, { status: failure.status, outcome: 'upstream_error', errorType: failure.type, code: failure.code });
    if (fallbackReason && ctx.down.committed) deps.finalFailures.remember(ctx.key.accessKeyId, ctx.parsed, error);
    return writeError(ctx, error);
  }

  const upstreamRequestId = response.upstreamRequestId;
  const result = (outcome: UsageOutcome) => {
    const failure = response.failure();
    record(ctx, {
      status: 200,
      outcome: failure && outcome === 'completed' ? 'failed' : outcome,
      errorType: failure?.type ?? null,
      usage: response.usage(),
      servedModel: response.servedModel,
      stopReason: response.stopReason(),
      upstreamRequestId,
    });
  };
  if (response.kind === 'json') {
    down.commit(200, { 'content-type': 'application/json', 'request-id': ctx.requestId });
    down.end(response.body);
    return result('completed');
  }
  down.commitEventStream({ 'request-id': ctx.requestId });
  for await (const text of response.events) {
    if (down.closed) break;
    await down.write(text);
  }
  if (ctx.abort.aborted) return result('aborted');
  down.end();
  result('completed');
}

/** Parses the body once: a JSON object with a model. Returns the error to send otherwise. */
function parseBody(body: Buffer | undefined): AnthropicRequest | ProxyError {
  if (!body || body.length === 0) return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body is empty; expected a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return new ProxyError('PROXY_BAD_JSON', 400, 'invalid_request_error', 'Request body must be a JSON object');
  }
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') {
    return new ProxyError('PROXY_MODEL_MISSING', 400, 'invalid_request_error', 'model: Field required (a non-empty string)');
  }
  return parsed as AnthropicRequest;
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An Anthropic error body re-told as an SSE error event (when a ping already committed a 200 stream). */
function errorAsEvent(body: Buffer, requestId: string): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { type?: AnthropicErrorType; message?: string } };
    if (parsed.error?.type) return anthropicErrorEvent(parsed.error.type, parsed.error.message ?? '', requestId);
  } catch {
    // not JSON
  }
  return anthropicErrorEvent('api_error', 'Anthropic returned an error', requestId);
}

/** The proxy's own error: a JSON response, or an SSE error event once the stream is committed. */
/** The proxy refuses this request itself (bad body, a limit, a budget): recorded as rejected, answered in Anthropic's shape. */
function reject(ctx: Ctx, error: ProxyError): void {
  record(ctx, { status: error.status, outcome: 'rejected', errorType: error.anthropicType, code: error.code });
  writeError(ctx, error);
}

function writeError(ctx: Ctx, error: ProxyError): void {
  const { down } = ctx;
  if (down.closed) return;
  if (down.committed) {
    // Claude Code streams an `overloaded_error` again (up to three times) before its one
    // non-streaming re-send; for a final failure it should go straight to that re-send.
    const final = error.headers['x-should-retry'] === 'false' && error.anthropicType === 'overloaded_error';
    return down.end(anthropicErrorEvent(final ? 'api_error' : error.anthropicType, error.message, ctx.requestId));
  }
  down.commit(error.status, { 'content-type': 'application/json', 'request-id': ctx.requestId, ...error.headers });
  down.end(JSON.stringify(anthropicErrorBody(error.anthropicType, error.message, ctx.requestId)));
}

interface Outcome {
  status: number;
  outcome: UsageOutcome;
  errorType?: string | null;
  code?: string;
  tap?: TapResult;
  usage?: TokenUsage;
  servedModel?: string;
  stopReason?: string | null;
  upstreamRequestId?: string | null;
}

/** Exactly one usage event and one access log line per request. Never throws, never waits. */
function record(ctx: Ctx, o: Outcome): void {
  if (ctx.stoppedBy && o.outcome === 'aborted') {
    // Not the client leaving: the drain time ran out and the proxy stopped the response.
    const { error, status } = ctx.stoppedBy;
    o = { ...o, outcome: 'failed', status, errorType: error.anthropicType, code: error.code };
  }
  const usage = o.usage ?? o.tap?.usage ?? emptyUsage();
  const counts = ctx.endpoint === 'count_tokens' ? emptyUsage() : usage; // count_tokens consumes nothing
  const model = typeof ctx.parsed.model === 'string' ? ctx.parsed.model : null;
  const event: UsageEvent = {
    requestId: ctx.requestId,
    occurredAt: ctx.occurredAt,
    userId: ctx.key.userId,
    accessKeyId: ctx.key.accessKeyId,
    endpoint: ctx.endpoint,
    provider: ctx.provider,
    isFallback: ctx.fallbackReason !== null,
    fallbackReason: ctx.fallbackReason,
    requestedModel: model,
    servedModel: o.servedModel ?? o.tap?.model ?? (o.outcome === 'completed' ? model : null),
    stream: ctx.stream,
    statusCode: o.status,
    outcome: o.outcome,
    errorType: o.errorType ?? null,
    errorCode: o.code ?? null,
    stopReason: o.stopReason ?? o.tap?.stopReason ?? null,
    ...counts,
    latencyMs: Math.round(performance.now() - ctx.startedAt),
    ttfbMs: ctx.down.ttfbMs,
    upstreamRequestId: o.upstreamRequestId ?? null,
    region: ctx.provider === 'bedrock' ? (ctx.key.bedrockRegion ?? ctx.deps.bedrockRegion) : null,
    budgetReservationId: ctx.budgetReservationId,
  };
  // The recorder prices the event as it queues it: metrics count that cost (CostUSD) too.
  ctx.deps.metrics.observe(ctx.deps.recorder.record(event));
  ctx.deps.logger.info(
    {
      reqId: event.requestId,
      upstreamRequestId: event.upstreamRequestId,
      userId: event.userId,
      keyPrefix: ctx.key.keyPrefix,
      provider: event.provider,
      fallback: event.fallbackReason,
      endpoint: event.endpoint,
      model: event.requestedModel,
      servedModel: event.servedModel,
      stream: event.stream,
      status: event.statusCode,
      outcome: event.outcome,
      code: o.code,
      traceId: headerValue(ctx.request.headers['x-amzn-trace-id']),
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

/** A request refused before it has a usage event (no key yet, unreadable body): one access line and the metrics. */
function refuse(deps: ProxyDeps, reply: FastifyReply, requestId: string, error: ProxyError): FastifyReply {
  const latencyMs = Math.round(reply.elapsedTime);
  deps.logger.info({ reqId: requestId, status: error.status, code: error.code, latencyMs }, 'request rejected');
  deps.metrics.observe(refusedEvent(error.status, error.code, latencyMs));
  return sendError(reply, requestId, error);
}

function sendError(reply: FastifyReply, requestId: string, error: ProxyError): FastifyReply {
  return reply
    .code(error.status)
    .headers({ 'request-id': requestId, ...error.headers })
    .type('application/json')
    .send(anthropicErrorBody(error.anthropicType, error.message, requestId));
}
