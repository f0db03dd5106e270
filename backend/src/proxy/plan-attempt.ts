import type { Dispatcher } from 'undici';
import type { UsageOutcome } from '../accounting/usage-event.ts';
import { anthropicErrorEvent, ProxyError, type AnthropicErrorType } from '../anthropic/errors.ts';
import { readUnifiedLimits } from '../anthropic/unified-limits.ts';
import { parseBetaHeader } from '../bedrock/betas.ts';
import { historyFor, type History } from '../bedrock/thinking-provenance.ts';
import { proxyError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { headerValue } from '../anthropic/headers.ts';
import { clientResponseHeaders, planRequestHeaders } from './headers.ts';
import { classifyPlanFailure, classifyPlanStatus, type PlanVerdict } from './plan-verdict.ts';
import type { UpstreamResponse } from './relay.ts';
import { createJsonTap, createSseTap } from './sse-tap.ts';

const MAX_ERROR_BODY_BYTES = 1024 * 1024;
const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';

export type PlanAttempt =
  | { kind: 'response'; response: UpstreamResponse; verdict: PlanVerdict }
  | { kind: 'failure'; error: ProxyError; verdict: PlanVerdict }
  | { kind: 'aborted' };

/** Sends the request to Anthropic. Error answers are read whole (they are small) so they can be judged. */
export async function tryPlan(x: Exchange): Promise<PlanAttempt> {
  const { request } = x;
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await x.deps.plan.send({ path: request.url.slice(request.url.indexOf('/v1/')), ...planBody(x), signal: x.abort });
  } catch (err) {
    if (x.abort.aborted) return { kind: 'aborted' };
    const error = err instanceof ProxyError ? err : proxyError('PLAN_UNREACHABLE', '');
    return { kind: 'failure', error, verdict: classifyPlanFailure(error) };
  }
  const limits = readUnifiedLimits(upstream.headers);
  if (limits) {
    x.planLimits = limits;
    x.deps.planWindows.observe(x.key, limits);
  }
  if (upstream.statusCode < 400) return { kind: 'response', response: planResponse(x, upstream), verdict: { action: 'relay' } };
  let errorBody: Buffer;
  try {
    errorBody = await readBounded(upstream.body, MAX_ERROR_BODY_BYTES);
  } catch {
    if (x.abort.aborted) return { kind: 'aborted' };
    errorBody = Buffer.alloc(0);
  }
  const verdict = classifyPlanStatus(upstream.statusCode, upstream.headers);
  return { kind: 'response', response: planResponse(x, upstream, errorBody), verdict };
}

/**
 * The client's bytes, unless the history holds thinking Anthropic cannot verify (minted by Bedrock
 * earlier in the session): then the body without it, and without the context-management beta
 * when that field had to go too (a beta without its field is refused).
 */
function planBody(x: Exchange): { headers: Record<string, string | string[]>; body: Buffer } {
  const headers = planRequestHeaders(x.request.headers, x.deps.planApiKey);
  const history = historyFor(x.parsed, 'anthropic');
  if (history.request === x.parsed) return { headers, body: x.body };
  logHistoryChange(x, 'anthropic', history);
  if (x.parsed.context_management && !history.request.context_management) {
    const betas = parseBetaHeader(headers['anthropic-beta']).filter((b) => b !== CONTEXT_MANAGEMENT_BETA);
    if (betas.length > 0) headers['anthropic-beta'] = betas.join(',');
    else delete headers['anthropic-beta'];
  }
  return { headers, body: Buffer.from(JSON.stringify(history.request)) };
}

export function logHistoryChange(x: Exchange, target: 'anthropic' | 'bedrock', history: History): void {
  x.deps.logger.info(
    { reqId: x.requestId, keyPrefix: x.key.keyPrefix, target, removedThinkingBlocks: history.removedBlocks, thinkingOff: history.thinkingOff },
    'history adjusted for the serving provider',
  );
}

/** Anthropic's answer for the relay: its bytes as they are, read by a tap for usage on the way. */
function planResponse(x: Exchange, upstream: Dispatcher.ResponseData, errorBody?: Buffer): UpstreamResponse {
  const sse = (headerValue(upstream.headers['content-type']) ?? '').includes('text/event-stream');
  const tap = sse ? createSseTap() : createJsonTap();
  const upstreamRequestId = headerValue(upstream.headers['request-id']) ?? null;
  const status = upstream.statusCode;
  const headers = clientResponseHeaders(upstream.headers);
  headers['request-id'] ??= x.requestId;
  // A JSON body is relayed byte for byte, so its length holds: the client gets head and body in
  // one write instead of a chunked body and its terminator.
  const length = errorBody ? String(errorBody.length) : sse ? undefined : headerValue(upstream.headers['content-length']);
  if (length !== undefined) headers['content-length'] = length;
  // An error body was read whole to judge it: the tap reads it now, whether it is relayed as it is or as an event.
  if (errorBody) tap.push(errorBody);
  return {
    status,
    headers,
    sse,
    body: errorBody ? [errorBody] : upstream.body,
    ...(errorBody ? {} : { onChunk: (chunk: Buffer | string) => tap.push(chunk as Buffer) }),
    atEventBoundary: () => tap.atEventBoundary(),
    ...(errorBody ? { asEvent: () => errorAsEvent(errorBody, x.requestId) } : {}),
    outcome(ended) {
      const result = tap.result();
      const outcome: UsageOutcome = status >= 400 && ended === 'completed' ? 'upstream_error' : ended;
      return { status, outcome, errorType: result.errorType ?? null, tap: result, upstreamRequestId };
    },
  };
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
