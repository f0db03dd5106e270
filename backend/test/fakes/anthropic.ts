/**
 * A fake Anthropic Messages API on 127.0.0.1 (docs/upstream-apis.md §1): node:http on
 * port 0, scripted per test with `reply(...)`, recording every request it got.
 *
 *   const fake = await startFakeAnthropic();
 *   fake.reply({ kind: 'stream', events: messageToEvents(thinkingToolUseMessage()), dropAfter: 4 });
 *   ... drive the proxy ...
 *   expect(fake.requests[0]?.headers['x-api-key']).toBe('sk-ant-…');
 *   await fake.close();
 *
 * Requests Anthropic would refuse get its 400 before any script runs (`anthropicRuleViolations`:
 * thinking it did not sign, a beta-gated field without its beta). Unscripted requests get
 * Anthropic's default behaviour: `POST /v1/messages` (any query) answers a
 * text message, as SSE when `body.stream` is true; `POST /v1/messages/count_tokens` answers
 * `{input_tokens}`; anything else is a 404 `not_found_error`.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeSseEvent, errorBody, messageToEvents, textMessage, type SseEvent } from './anthropic-messages.ts';
import { ANTHROPIC_SHAPE, thinkingViolations } from './thinking-rules.ts';

export interface RecordedRequest {
  /** Position in `requests`; the response's `request-id` is `req_fake_<index>`. */
  index: number;
  requestId: string;
  method: string;
  /** Path and query, as received (`/v1/messages?beta=true`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
  /** Becomes true if the client closed the socket before the response finished. */
  clientClosedEarly: boolean;
}

type Headers = Record<string, string>;

export type Reply =
  /** A JSON response; also errors (`status: 529`, headers `x-should-retry`, `retry-after`…). */
  | { kind: 'json'; status?: number; headers?: Headers; body: unknown; delayMs?: number }
  /**
   * An SSE response, one write per event. `firstByteDelayMs` delays the status line and headers,
   * `delayMs` paces the events after the first, and `dropAfter: n` destroys the socket after n
   * events (no message_stop, no final chunk).
   */
  | {
      kind: 'stream';
      status?: number;
      headers?: Headers;
      events: SseEvent[];
      delayMs?: number;
      firstByteDelayMs?: number;
      dropAfter?: number;
    }
  /** Accepts the request and never answers, until the client goes away or the fake closes. */
  | { kind: 'hang' }
  /** These bytes as the body, with no content-type unless given. */
  | { kind: 'raw'; status?: number; headers?: Headers; body: Buffer; delayMs?: number };

/** A reply, or a function choosing one from the request it answers. */
export type ReplyScript = Reply | ((request: RecordedRequest) => Reply);

export interface FakeAnthropic {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies; each incoming request (any path) takes the next, then the default applies. */
  reply(...replies: ReplyScript[]): void;
  /** Replies still queued. */
  pendingReplies(): number;
  /**
   * The next request not yet returned by nextRequest(): resolves at once if it already arrived,
   * otherwise when it does (after its body was read).
   */
  nextRequest(): Promise<RecordedRequest>;
  /** Resolves when the client closed request `index`'s socket before its reply finished. */
  requestClosed(index: number): Promise<void>;
  /** Closes the server and destroys open sockets, hanging replies included. Idempotent. */
  close(): Promise<void>;
}

/** A JSON error in Anthropic's shape (§1.7), e.g. `errorReply(529, 'overloaded_error', 'Overloaded', { 'x-should-retry': 'true' })`. */
export function errorReply(status: number, type: string, message: string, headers: Headers = {}): Reply {
  return { kind: 'json', status, headers, body: errorBody(type, message) };
}

/** Rate-limit headers like Anthropic's on a successful response (reset times are RFC 3339). */
export function rateLimitHeaders(now = Date.now()): Headers {
  const reset = (ms: number): string => new Date(now + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const limits: [string, number, number][] = [
    ['requests', 4000, 1_000],
    ['tokens', 2_400_000, 1_000],
    ['input-tokens', 2_000_000, 1_000],
    ['output-tokens', 400_000, 2_000],
  ];
  const headers: Headers = {};
  for (const [name, limit, resetMs] of limits) {
    headers[`anthropic-ratelimit-${name}-limit`] = String(limit);
    headers[`anthropic-ratelimit-${name}-remaining`] = String(limit - 1);
    headers[`anthropic-ratelimit-${name}-reset`] = reset(resetMs);
  }
  return headers;
}

/** A Claude plan's window as Anthropic reports it: utilization 0–1, reset in Unix seconds. */
export interface PlanWindowHeader {
  utilization: number;
  reset: number;
  surpassedThreshold?: number;
}

/**
 * The unified limit headers Anthropic sends on every answer to a Claude plan credential (never to
 * an API key): the status, the 5-hour and 7-day windows (and a model family's weekly one), the
 * binding claim and its reset, and the overage state.
 */
export function unifiedLimitHeaders(plan: {
  status?: 'allowed' | 'allowed_warning' | 'rejected';
  fiveHour?: PlanWindowHeader;
  sevenDay?: PlanWindowHeader;
  sevenDayOpus?: PlanWindowHeader;
  claim?: 'five_hour' | 'seven_day' | 'seven_day_opus' | 'seven_day_sonnet' | 'overage';
  reset?: number;
  overageStatus?: 'allowed' | 'allowed_warning' | 'rejected';
}): Headers {
  const p = 'anthropic-ratelimit-unified-';
  const headers: Headers = { [`${p}status`]: plan.status ?? 'allowed' };
  for (const [infix, w] of [['5h', plan.fiveHour], ['7d', plan.sevenDay], ['7d_opus', plan.sevenDayOpus]] as const) {
    if (!w) continue;
    headers[`${p}${infix}-utilization`] = String(w.utilization);
    headers[`${p}${infix}-reset`] = String(w.reset);
    if (w.surpassedThreshold !== undefined) headers[`${p}${infix}-surpassed-threshold`] = String(w.surpassedThreshold);
  }
  const claim = plan.claim ?? 'five_hour';
  headers[`${p}representative-claim`] = claim;
  const reset = plan.reset ?? (claim === 'five_hour' ? plan.fiveHour?.reset : plan.sevenDay?.reset);
  if (reset !== undefined) headers[`${p}reset`] = String(reset);
  headers[`${p}overage-status`] = plan.overageStatus ?? 'rejected';
  headers[`${p}fallback`] = 'available';
  return headers;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function field(json: unknown, name: string): unknown {
  return json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
}

/** Everything Anthropic would refuse about a `POST /v1/messages` (empty: accepted). */
export function anthropicRuleViolations(request: Pick<RecordedRequest, 'headers' | 'json'>): string[] {
  const body = request.json;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const thinking = field(body, 'thinking') as { type?: unknown } | undefined;
  const problems = thinkingViolations('anthropic', field(body, 'messages'), thinking?.type, ANTHROPIC_SHAPE);
  const betas = String(request.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim());
  const contextManagement = field(body, 'context_management') as { edits?: unknown } | undefined;
  if (contextManagement !== undefined && !betas.includes('context-management-2025-06-27')) {
    problems.push('context_management: Extra inputs are not permitted (requires the context-management-2025-06-27 beta)');
  }
  const edits = Array.isArray(contextManagement?.edits) ? (contextManagement.edits as { type?: unknown }[]) : [];
  if (edits.some((e) => String(e?.type).startsWith('clear_thinking')) && thinking?.type !== 'enabled' && thinking?.type !== 'adaptive') {
    problems.push('context_management.edits: the clear_thinking strategy requires thinking to be enabled');
  }
  return problems;
}

/** What Anthropic would answer when the test scripted nothing. */
export function defaultReply(request: RecordedRequest): Reply {
  const path = request.url.split('?', 1)[0];
  if (request.method === 'POST' && path === '/v1/messages') {
    if (request.json === undefined || typeof request.json !== 'object' || request.json === null) {
      return { kind: 'json', status: 400, body: errorBody('invalid_request_error', 'The request body is not valid JSON.', request.requestId) };
    }
    const model = field(request.json, 'model');
    const message = textMessage({ model: typeof model === 'string' ? model : undefined });
    return field(request.json, 'stream') === true
      ? { kind: 'stream', events: messageToEvents(message) }
      : { kind: 'json', body: message };
  }
  if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
    return { kind: 'json', body: { input_tokens: Math.max(1, Math.ceil(request.body.length / 4)) } };
  }
  return { kind: 'json', status: 404, body: errorBody('not_found_error', 'Not Found', request.requestId) };
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  const queue: ReplyScript[] = [];
  const sockets = new Set<Socket>();
  const closedEarly = new Map<number, Deferred>();
  const waiters: ((r: RecordedRequest) => void)[] = [];
  let cursor = 0; // next index nextRequest() hands out
  let closing = false;
  const stop = new AbortController();

  const closedFor = (index: number): Deferred => {
    let d = closedEarly.get(index);
    if (!d) closedEarly.set(index, (d = deferred()));
    return d;
  };

  /** Waits `ms`; false when the fake closed or the response went away meanwhile. */
  const wait = async (ms: number | undefined, res: ServerResponse): Promise<boolean> => {
    if (ms && ms > 0) {
      try {
        await sleep(ms, undefined, { signal: stop.signal });
      } catch {
        return false;
      }
    }
    return !res.destroyed && !closing;
  };

  /** Writes one chunk and resolves once it is handed to the socket (or the response is gone). */
  const write = (res: ServerResponse, chunk: Buffer): Promise<void> =>
    new Promise((resolve) => {
      res.once('close', resolve);
      res.write(chunk, () => {
        res.off('close', resolve);
        resolve();
      });
    });

  const respond = async (record: RecordedRequest, reply: Reply, res: ServerResponse, serverDrop: () => void) => {
    if (reply.kind === 'hang') return;
    const delay = reply.kind === 'stream' ? reply.firstByteDelayMs : reply.delayMs;
    if (!(await wait(delay, res))) return;

    const status = reply.status ?? 200;
    const headers: Headers = {
      'request-id': record.requestId,
      'anthropic-organization-id': '00000000-0000-4000-8000-00000000fa4e',
      ...(status < 300 ? rateLimitHeaders() : {}),
    };
    if (reply.kind === 'json') headers['content-type'] = 'application/json';
    if (reply.kind === 'stream') {
      headers['content-type'] = 'text/event-stream; charset=utf-8';
      headers['cache-control'] = 'no-cache';
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;

    if (reply.kind !== 'stream') {
      const body = reply.kind === 'raw' ? reply.body : Buffer.from(JSON.stringify(reply.body), 'utf8');
      res.writeHead(status, { ...headers, 'content-length': String(body.length) });
      res.end(body);
      return;
    }

    res.writeHead(status, headers);
    res.flushHeaders();
    for (const [i, event] of reply.events.entries()) {
      if (reply.dropAfter !== undefined && i >= reply.dropAfter) return serverDrop();
      if (i > 0 && !(await wait(reply.delayMs, res))) return;
      if (res.destroyed || closing) return;
      await write(res, encodeSseEvent(event));
    }
    if (reply.dropAfter !== undefined && reply.dropAfter >= reply.events.length) return serverDrop();
    if (!res.destroyed) res.end();
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined); // a client gone mid-body is simply not recorded
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const index = requests.length;
      const record: RecordedRequest = {
        index,
        requestId: `req_fake_${index}`,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json: parseJson(body),
        clientClosedEarly: false,
      };
      requests.push(record);

      let droppedByServer = false;
      res.on('close', () => {
        if (res.writableFinished || droppedByServer || closing) return;
        record.clientClosedEarly = true;
        closedFor(index).resolve();
      });
      const serverDrop = () => {
        droppedByServer = true;
        res.destroy();
      };

      const waiter = waiters.shift();
      if (waiter) waiter(requests[cursor++] as RecordedRequest);

      const script = queue.shift();
      const problems = record.method === 'POST' && record.url.split('?', 1)[0] === '/v1/messages' ? anthropicRuleViolations(record) : [];
      let reply: Reply;
      try {
        if (problems.length > 0) reply = { kind: 'json', status: 400, body: errorBody('invalid_request_error', problems.join('; '), record.requestId) };
        else reply = script === undefined ? defaultReply(record) : typeof script === 'function' ? script(record) : script;
      } catch (err) {
        reply = { kind: 'json', status: 500, body: errorBody('api_error', `fake reply script threw: ${String(err)}`, record.requestId) };
      }
      respond(record, reply, res, serverDrop).catch(() => {
        if (!res.destroyed) serverDrop();
      });
    });
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...replies) => void queue.push(...replies),
    pendingReplies: () => queue.length,
    nextRequest: () => {
      if (cursor < requests.length) return Promise.resolve(requests[cursor++] as RecordedRequest);
      return new Promise((resolve) => waiters.push(resolve));
    },
    requestClosed: (index) => closedFor(index).promise,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        stop.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
