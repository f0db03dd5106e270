import { Agent, type Dispatcher } from 'undici';
import type { ProxyError } from '../anthropic/errors.ts';
import { proxyError } from './errors.ts';
import type { Cancellation } from './cancellation.ts';

export interface PlanRequest {
  /** Path and query as the client sent them, starting at /v1/. */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  signal: AbortSignal | Cancellation;
}

export interface PlanUpstream {
  send(req: PlanRequest): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export interface PlanUpstreamOptions {
  baseUrl: string;
  firstByteTimeoutMs: number;
  /** Longest silence allowed inside a response body (Anthropic pings streams, so this is generous). */
  idleTimeoutMs?: number;
  /** Connections to Anthropic at most: a stream holds one for its whole length (app.ts: MAX_UPSTREAM_REQUESTS). */
  connections: number;
}

/** One pooled keep-alive client for every request to Anthropic. */
export function createPlanUpstream(options: PlanUpstreamOptions): PlanUpstream {
  const base = new URL(options.baseUrl);
  const origin = base.origin;
  const prefix = base.pathname.replace(/\/+$/, ''); // PLAN_API_URL may carry a path (a gateway in front)
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: options.connections,
    headersTimeout: options.firstByteTimeoutMs,
    bodyTimeout: options.idleTimeoutMs ?? 300_000,
  });
  const firstByteSeconds = options.firstByteTimeoutMs / 1000;
  return {
    async send(req) {
      try {
        return await agent.request({
          origin,
          path: prefix + req.path,
          method: 'POST',
          headers: req.headers,
          body: req.body,
          signal: req.signal,
        });
      } catch (err) {
        throw req.signal.aborted ? err : planFailure(err, firstByteSeconds);
      }
    },
    close: () => agent.close(),
  };
}

/** A transport failure before Anthropic answered, as the error the client gets. Matched on code, never on text. */
export function planFailure(err: unknown, firstByteSeconds: number): ProxyError {
  const code = (err as { code?: string }).code ?? 'UNKNOWN';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return proxyError('PLAN_FIRST_BYTE_TIMEOUT', firstByteSeconds);
  return proxyError('PLAN_UNREACHABLE', code === 'UND_ERR_CONNECT_TIMEOUT' ? ': connection timed out' : ` (${code})`);
}
