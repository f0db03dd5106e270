import { ProxyError } from '../anthropic/errors.ts';
import { budgetLimitHeaders } from '../anthropic/unified-limits.ts';
import { mapBedrockError } from '../bedrock/errors.ts';
import { resolveBedrockModel } from '../bedrock/models.ts';
import { historyFor } from '../bedrock/thinking-provenance.ts';
import { BedrockCallError, COUNT_TOKENS_UNSUPPORTED, type BedrockResponse } from '../bedrock/upstream.ts';
import type { KeyContext } from './access-keys.ts';
import { reserveBedrockBudget } from './budget-check.ts';
import type { ProxyDeps } from './deps.ts';
import { SSE_HEADERS } from './downstream.ts';
import { proxyError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { logHistoryChange } from './plan-attempt.ts';
import type { FallbackReason } from './plan-verdict.ts';
import { relay, type UpstreamResponse } from './relay.ts';

/** The Bedrock credential to use: a key's API key, null for SigV4, undefined when this key has none. */
export async function bedrockCredentialOf(
  deps: Pick<ProxyDeps, 'bedrockAuth' | 'bedrockKeys' | 'logger'>,
  key: Pick<KeyContext, 'accessKeyId' | 'keyPrefix'>,
  reqId: string,
): Promise<{ apiKey: string | null } | undefined> {
  if (deps.bedrockAuth === 'sigv4') return { apiKey: null };
  try {
    const apiKey = await deps.bedrockKeys.get(key.accessKeyId);
    return apiKey ? { apiKey } : undefined;
  } catch (err) {
    deps.logger.error({ err, reqId, keyPrefix: key.keyPrefix }, 'Bedrock key unavailable');
    return undefined;
  }
}

/** The credential of the exchange's key (bedrockCredentialOf). */
export const bedrockCredential = (x: Exchange) => bedrockCredentialOf(x.deps, x.key, x.requestId);

/** Serves the request from Bedrock, translated back so the client sees what Anthropic would have sent. */
export async function serveBedrock(x: Exchange, apiKey: string | null, fallbackReason: FallbackReason | null): Promise<void> {
  const { deps } = x;
  x.provider = 'bedrock';
  x.fallbackReason = fallbackReason;
  const mappings = deps.modelMappings();
  // Resolved once for the budget and the call; an unmappable model is the call's own 400.
  let modelId: string | undefined;
  try {
    modelId = resolveBedrockModel(String(x.parsed.model), x.region, mappings).modelId;
  } catch {
    modelId = undefined;
  }
  const budget = await reserveBedrockBudget(
    { ...deps.budgets, logger: deps.logger },
    { key: x.key, requestId: x.requestId, occurredAt: x.occurredAt, parsed: x.parsed, bodyBytes: x.body.length, region: x.region, bedrockModelId: modelId ?? null },
  );
  if (budget instanceof ProxyError) return x.refuse(budget);
  x.budgetReservationId = budget.reservationId;
  let response: BedrockResponse;
  try {
    const history = historyFor(x.parsed, 'bedrock');
    if (history.request !== x.parsed) logHistoryChange(x, 'bedrock', history);
    response = await deps.bedrock.send({
      request: history.request,
      betaHeader: x.request.headers['anthropic-beta'],
      stream: x.stream,
      apiKey,
      region: x.region,
      mappings,
      ...(modelId ? { modelId } : {}),
      signal: x.abort.signal,
    });
  } catch (err) {
    if (x.abort.aborted) return x.finish({ status: 499, outcome: 'aborted' });
    const failure = err instanceof BedrockCallError ? err.failure : mapBedrockError(err);
    // Only the mapped failure is logged: a raw SDK error holds the request, Bearer key included.
    if (failure.status >= 500) deps.logger.warn({ reqId: x.requestId, code: failure.code, status: failure.status, message: failure.message }, 'Bedrock call failed');
    // After a fallback both upstreams have failed: tell the client not to multiply the attempts.
    const error = new ProxyError(failure.code, failure.status, failure.type, failure.message, fallbackReason ? { 'x-should-retry': 'false' } : {});
    if (fallbackReason && x.down.committed) deps.finalFailures.remember(x.key.accessKeyId, x.parsed, error);
    return x.fail(error, 'upstream_error');
  }
  // A budgeted user's answer says how much of the month's budget is used, in the unified limit
  // headers Claude Code warns from (Anthropic's own never reach a Bedrock answer).
  return relay(x, bedrockResponse(x, response, budget.use ? budgetLimitHeaders(budget.use.used, budget.use.resetsAt) : {}));
}

/** Bedrock's answer, already in Anthropic's shape, for the relay. */
function bedrockResponse(x: Exchange, response: BedrockResponse, limitHeaders: Record<string, string>): UpstreamResponse {
  const stream = response.kind === 'stream';
  return {
    status: 200,
    headers: { ...(stream ? SSE_HEADERS : { 'content-type': 'application/json' }), 'request-id': x.requestId, ...limitHeaders },
    sse: stream,
    // Each string is whole events, and a failure is itself an `error` event: the boundary always holds.
    body: stream ? response.events : [response.body],
    atEventBoundary: () => true,
    outcome(ended) {
      const failure = response.failure();
      return {
        status: 200,
        outcome: failure && ended === 'completed' ? 'failed' : ended,
        errorType: failure?.type ?? null,
        usage: response.usage(),
        servedModel: response.servedModel,
        stopReason: response.stopReason(),
        upstreamRequestId: response.upstreamRequestId,
      };
    },
  };
}

/**
 * count_tokens for `bedrock_only` users, by Bedrock's CountTokens. Where it cannot count (a model it
 * does not count) the 404 Claude Code falls back from to a local estimate.
 */
export async function countOnBedrock(x: Exchange, apiKey: string | null): Promise<void> {
  const { deps } = x;
  x.provider = 'bedrock';
  let count;
  try {
    count = await deps.bedrock.countTokens({
      request: historyFor(x.parsed, 'bedrock').request,
      betaHeader: x.request.headers['anthropic-beta'],
      apiKey,
      region: x.region,
      mappings: deps.modelMappings(),
      signal: x.abort.signal,
    });
  } catch (err) {
    if (x.abort.aborted) return x.finish({ status: 499, outcome: 'aborted' });
    const failure = err instanceof BedrockCallError ? err.failure : mapBedrockError(err);
    x.finish({ status: failure.status, outcome: 'upstream_error', errorType: failure.type, code: failure.code });
    if (failure.code === COUNT_TOKENS_UNSUPPORTED) return x.writeError(proxyError('PROXY_COUNT_TOKENS_UNAVAILABLE'));
    // Only the mapped failure is logged: a raw SDK error holds the request, Bearer key included.
    if (failure.status >= 500) deps.logger.warn({ reqId: x.requestId, code: failure.code, status: failure.status, message: failure.message }, 'Bedrock CountTokens failed');
    return x.writeError(new ProxyError(failure.code, failure.status, failure.type, failure.message));
  }
  x.down.commit(200, { 'content-type': 'application/json', 'request-id': x.requestId });
  x.down.end(JSON.stringify({ input_tokens: count.inputTokens }));
  // count_tokens consumes nothing: its usage event keeps zero tokens.
  x.finish({ status: 200, outcome: 'completed', servedModel: count.servedModel, upstreamRequestId: count.upstreamRequestId });
}
