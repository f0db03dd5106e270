import type { FastifyRequest } from 'fastify';
import type { FallbackUnavailable, UsageEvent } from '../accounting/usage-event.ts';
import { anthropicErrorBody, anthropicErrorEvent, type ProxyError } from '../anthropic/errors.ts';
import type { UnifiedLimits } from '../anthropic/unified-limits.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import type { KeyContext } from './access-keys.ts';
import type { Cancellation } from './cancellation.ts';
import type { ProxyDeps } from './deps.ts';
import type { Downstream } from './downstream.ts';
import { headerValue } from '../anthropic/headers.ts';
import type { FallbackReason } from './plan-verdict.ts';
import { accessLineOf, usageEventOf, type Outcome } from './usage-record.ts';

export type Endpoint = UsageEvent['endpoint'];

/**
 * One request while it is served: what it asked, where it went, and the client's side of the
 * response. It ends exactly once, in `finish`: one usage event and one access line, whichever
 * path ended it (a second call is ignored).
 */
export class Exchange {
  readonly occurredAt = new Date();
  /** Which upstream serves (or last tried to serve) it, and why Bedrock if it was a fallback. */
  provider: 'plan' | 'bedrock' = 'plan';
  fallbackReason: FallbackReason | null = null;
  /** A fallback Anthropic's answer called for could not happen (so the client got that answer). */
  fallbackUnavailable: FallbackUnavailable | null = null;
  /** Anthropic's unified limit headers on its answer (a Plan credential), when it had them. */
  planLimits: UnifiedLimits | null = null;
  /** Budget held for the Bedrock call; settled when the usage event is stored. */
  budgetReservationId: number | null = null;
  /** Whether an SSE error event can be written now without cutting an upstream event in half. */
  atEventBoundary: () => boolean = () => true;
  /** Set when a shutdown drain ran out of time for this request: the error, and the status the client got. */
  stoppedBy: { error: ProxyError; status: number } | null = null;
  #finished = false;

  constructor(
    readonly deps: ProxyDeps,
    readonly request: FastifyRequest,
    readonly key: KeyContext,
    readonly endpoint: Endpoint,
    /** The body as received: what Anthropic gets unless the history must change. */
    readonly body: Buffer,
    /** The body parsed once (`{}` when it could not be: such a request is refused at once). */
    readonly parsed: AnthropicRequest,
    readonly down: Downstream,
    readonly abort: Cancellation,
    readonly startedAt: number,
  ) {}

  get requestId(): string {
    return this.request.id;
  }

  get stream(): boolean {
    return this.endpoint === 'messages' && this.parsed.stream === true;
  }

  get region(): string {
    return this.key.bedrockRegion ?? this.deps.bedrockRegion;
  }

  /** The request's one usage event and access line. Never throws, never waits. */
  finish(o: Outcome): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.stoppedBy && o.outcome === 'aborted') {
      // Not the client leaving: the drain time ran out and the proxy stopped the response.
      const { error, status } = this.stoppedBy;
      o = { ...o, outcome: 'failed', status, errorType: error.anthropicType, code: error.code };
    }
    const event = usageEventOf(
      {
        requestId: this.requestId,
        occurredAt: this.occurredAt,
        key: this.key,
        endpoint: this.endpoint,
        requestedModel: typeof this.parsed.model === 'string' ? this.parsed.model : null,
        stream: this.stream,
        provider: this.provider,
        fallbackReason: this.fallbackReason,
        fallbackUnavailable: this.fallbackUnavailable,
        region: this.region,
        budgetReservationId: this.budgetReservationId,
        planLimits: this.planLimits,
        providerSwitch: this.#servedSession(o.status),
        latencyMs: Math.round(performance.now() - this.startedAt),
        ttfbMs: this.down.ttfbMs,
      },
      o,
    );
    // The recorder prices the event as it queues it: metrics count that cost (CostUSD) too.
    this.deps.metrics.observe(this.deps.recorder.record(event));
    this.deps.logger.info(accessLineOf(event, this.key.keyPrefix, headerValue(this.request.headers['x-amzn-trace-id'])), 'request');
  }

  /** The Claude Code session this request belongs to (its `x-claude-code-session-id`), if any. */
  get sessionId(): string | undefined {
    return headerValue(this.request.headers['x-claude-code-session-id']);
  }

  /** Tells the session tracker who served this turn; true when that is a switch of provider. */
  #servedSession(status: number): boolean {
    const session = this.sessionId;
    if (!session || this.endpoint !== 'messages' || status >= 400) return false;
    return this.deps.sessions.served(this.key.accessKeyId, session, this.provider);
  }

  /** The proxy refuses the request itself (bad body, a limit, a budget): recorded as rejected. */
  refuse(error: ProxyError): void {
    this.fail(error, 'rejected');
  }

  /** Ends the request with an error in Anthropic's shape, recorded with `outcome`. */
  fail(error: ProxyError, outcome: 'rejected' | 'upstream_error' | 'failed'): void {
    this.finish({ status: error.status, outcome, errorType: error.anthropicType, code: error.code });
    this.writeError(error);
  }

  /** The error as JSON, or as an SSE `error` event once pings or the upstream committed a 200 stream. */
  writeError(error: ProxyError): void {
    const { down } = this;
    if (down.closed) return;
    if (down.committed) {
      // Claude Code streams an `overloaded_error` again (up to three times) before its one
      // non-streaming re-send; for a final failure it should go straight to that re-send.
      const final = error.headers['x-should-retry'] === 'false' && error.anthropicType === 'overloaded_error';
      return down.end(anthropicErrorEvent(final ? 'api_error' : error.anthropicType, error.message, this.requestId));
    }
    down.commit(error.status, { 'content-type': 'application/json', 'request-id': this.requestId, ...error.headers });
    down.end(JSON.stringify(anthropicErrorBody(error.anthropicType, error.message, this.requestId)));
  }

  /**
   * The shutdown drain ran out of time: the client gets an error it can retry on (as an SSE `error`
   * event once the stream has begun; mid-event only a cut is honest), and the upstream call is aborted.
   */
  stopForShutdown(error: ProxyError): void {
    // A stream already begun stays a 200 with an error event; otherwise the client gets the 529.
    this.stoppedBy = { error, status: this.down.committed ? 200 : error.status };
    if (!this.down.closed) {
      if (this.down.committed && !this.atEventBoundary()) this.down.destroy();
      else this.writeError(error);
    }
    this.abort.abort();
  }
}
