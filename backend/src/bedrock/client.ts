/**
 * The Bedrock Runtime edge: the only module of bedrock/ that does I/O (docs/upstream-apis.md §2.1).
 *
 * - One keep-alive `NodeHttpHandler` (HTTP/1.1; the SDK's default HTTP/2 handler cannot talk to a
 *   plain HTTP/1.1 endpoint) is shared by every `BedrockRuntimeClient`, so connections pool per
 *   process whatever the region or key.
 * - Bearer auth: the SDK takes the token per client, so there is one light client per
 *   (region, key), kept in a bounded LRU map keyed by region and a hash of the key (the key itself
 *   is never a map key, never logged). Both `token` and `authSchemePreference: ['httpBearerAuth']`
 *   are set: a token alone is ignored whenever AWS credentials exist.
 * - SigV4: one client per region on the default credential chain, the scheme pinned to SigV4 so an
 *   `AWS_BEARER_TOKEN_BEDROCK` in the environment cannot switch it.
 * - `maxAttempts: 1`: the SDK never retries; the proxy's router decides what happens next.
 * - Every call that carries a Bedrock API key — the Messages endpoint (`POST /anthropic/v1/messages`)
 *   and, in bearer mode, InvokeModel and Converse (runtime-http.ts) — is a plain HTTPS POST with
 *   undici `request()` on one shared keep-alive Agent, with `authorization: Bearer <key>`: the SDK's
 *   middleware and event-stream layers cost more CPU than the rest of a request (README, Performance). The
 *   SDK clients remain for SigV4 and CountTokens.
 */

import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, type Dispatcher } from 'undici';

export type BedrockAuth = 'bearer' | 'sigv4';

export interface BedrockClientOptions {
  /** `BEDROCK_ENDPOINT`: replaces `https://bedrock-runtime.{region}.amazonaws.com` (e.g. `http://127.0.0.1:port`). */
  endpoint?: string;
  /**
   * `bearer`: every call needs the access key's Bedrock API key. `sigv4`: calls without a key are
   * signed with the default credential chain (the task role); a call with a key still uses it.
   */
  auth: BedrockAuth;
  /** SDK attempts per call; 1 (no retries) unless a caller has a reason. */
  maxAttempts?: number;
  /** TCP (and TLS) connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Longest wait for the response head, and longest silence inside a body. Default 10 min: a
   * non-streaming answer with long thinking sends nothing until it is complete.
   */
  idleTimeoutMs?: number;
  /** Sockets per origin. Default 512. */
  maxSockets?: number;
  /** Bearer clients kept (LRU). Default 256. */
  maxCachedClients?: number;
}

export interface BedrockMessagesCall {
  region: string;
  apiKey: string;
  /** The JSON body, serialised once. */
  body: string;
  /** Headers besides `content-type`, `accept` and `authorization` (betas, version). */
  headers: Record<string, string>;
  stream: boolean;
  signal: AbortSignal;
}

/** One POST with a Bedrock API key: what `post` sends. */
export interface BedrockPostCall {
  region: string;
  apiKey: string;
  /** Path below the endpoint, already percent-encoded (`/model/{modelId}/invoke`). */
  path: string;
  /** The body, serialised once. */
  body: string;
  /** Headers besides `authorization`. */
  headers: Record<string, string>;
  signal: AbortSignal;
}

export interface BedrockClients {
  /** The SDK client for `region` and the key (null: SigV4, only when `auth` is `sigv4`). */
  runtime(region: string, apiKey: string | null): BedrockRuntimeClient;
  /** POST to the Messages endpoint; resolves at the response head (any status), body unread. */
  messages(call: BedrockMessagesCall): Promise<Dispatcher.ResponseData>;
  /** POST `path` with `authorization: Bearer`; resolves at the response head (any status), body unread. */
  post(call: BedrockPostCall): Promise<Dispatcher.ResponseData>;
  /** Where `messages` posts for `region`. */
  messagesUrl(region: string): URL;
  /** Bearer clients currently cached (for tests and metrics). */
  cachedClients(): number;
  close(): Promise<void>;
}

/** A Bedrock setting that cannot work; thrown at construction, so the process refuses to start. */
export class BedrockConfigError extends Error {
  override readonly name = 'BedrockConfigError';
  readonly code = 'BEDROCK_CONFIG';
}

const DEFAULTS = { connectTimeoutMs: 10_000, idleTimeoutMs: 600_000, maxSockets: 512, maxCachedClients: 256 };
const MESSAGES_PATH = '/anthropic/v1/messages';
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d+$/;

function regionHost(region: string): string {
  // The region ends up in a host name: refuse anything that is not one.
  if (!REGION.test(region)) throw new BedrockConfigError(`'${region}' is not an AWS region name`);
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

function normaliseEndpoint(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined || endpoint.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new BedrockConfigError(`BEDROCK_ENDPOINT '${endpoint}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BedrockConfigError('BEDROCK_ENDPOINT must be an http(s) URL');
  return url.href.replace(/\/+$/, '');
}

const keyHash = (apiKey: string) => createHash('sha256').update(apiKey).digest('base64url');

export function createBedrockClients(options: BedrockClientOptions): BedrockClients {
  const settings = { ...DEFAULTS, ...withoutUndefined(options) };
  const endpoint = normaliseEndpoint(options.endpoint);
  const maxAttempts = options.maxAttempts ?? 1;

  // `timeout` closes pooled sockets idle this long; the handler's socketTimeout governs busy ones.
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets, maxFreeSockets: 64, timeout: 30_000 };
  const requestHandler = new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    connectionTimeout: settings.connectTimeoutMs,
    requestTimeout: settings.idleTimeoutMs,
    throwOnRequestTimeout: true,
    socketTimeout: settings.idleTimeoutMs,
  });
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: settings.maxSockets,
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.idleTimeoutMs,
    bodyTimeout: settings.idleTimeoutMs,
  });

  /** Per region: where requests go (origin, and the endpoint's own path prefix, if any). */
  const bases = new Map<string, { origin: string; prefix: string }>();
  function base(region: string): { origin: string; prefix: string } {
    let found = bases.get(region);
    if (!found) {
      const url = new URL(endpoint ?? regionHost(region));
      found = { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') };
      // Regions come from admin rows: a handful per process.
      bases.set(region, found);
    }
    return found;
  }

  function post(call: BedrockPostCall): Promise<Dispatcher.ResponseData> {
    if (closed) return Promise.reject(new BedrockConfigError('the Bedrock clients are closed'));
    let target: { origin: string; prefix: string };
    try {
      target = base(call.region);
    } catch (err) {
      return Promise.reject(err);
    }
    return agent.request({
      origin: target.origin,
      path: target.prefix + call.path,
      method: 'POST',
      headers: { ...call.headers, authorization: `Bearer ${call.apiKey}` },
      body: call.body,
      signal: call.signal,
    });
  }

  /** Insertion order is recency: a hit is moved to the end, the first entry is evicted. */
  const clients = new Map<string, BedrockRuntimeClient>();
  let closed = false;

  function build(region: string, apiKey: string | null): BedrockRuntimeClient {
    const common = { region, maxAttempts, requestHandler, ...(endpoint ? { endpoint } : {}) };
    if (apiKey !== null) {
      return new BedrockRuntimeClient({ ...common, token: { token: apiKey }, authSchemePreference: ['httpBearerAuth'] });
    }
    return new BedrockRuntimeClient({ ...common, authSchemePreference: ['sigv4'] });
  }

  return {
    runtime(region, apiKey) {
      if (closed) throw new BedrockConfigError('the Bedrock clients are closed');
      if (apiKey === null && options.auth !== 'sigv4') {
        throw new BedrockConfigError('BEDROCK_AUTH=bearer needs a Bedrock API key for every call');
      }
      const id = `${region}\u0000${apiKey === null ? 'sigv4' : keyHash(apiKey)}`;
      let client = clients.get(id);
      if (client) {
        clients.delete(id);
      } else {
        client = build(region, apiKey);
        // Evicted clients are only dropped: `destroy()` would close the shared handler's sockets.
        while (clients.size >= settings.maxCachedClients) clients.delete(clients.keys().next().value as string);
      }
      clients.set(id, client);
      return client;
    },

    messagesUrl(region) {
      const { origin, prefix } = base(region);
      return new URL(`${origin}${prefix}${MESSAGES_PATH}`);
    },

    messages(call) {
      return post({
        region: call.region,
        apiKey: call.apiKey,
        path: MESSAGES_PATH,
        body: call.body,
        headers: { ...call.headers, 'content-type': 'application/json', accept: call.stream ? 'text/event-stream' : 'application/json' },
        signal: call.signal,
      });
    },

    post,

    cachedClients: () => clients.size,

    async close() {
      if (closed) return;
      closed = true;
      clients.clear();
      requestHandler.destroy();
      await agent.close();
    },
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
