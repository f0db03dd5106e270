/**
 * The Anthropic endpoints Claude Code calls besides messages, answered by the proxy itself:
 *
 * - `GET /v1/models[/:id]` (key in `x-proxy-key`) and `/ak/:key/v1/models[/:id]`: the models this
 *   key can be served, in Anthropic's list shape. The list is the model mappings' Anthropic names
 *   (admin rows and the shipped defaults), so a client picks only names Bedrock fallback can map.
 *   Authenticated exactly like the messages routes; answered from memory (no upstream call, no
 *   query), so a model picker never waits on, or spends, an upstream.
 * - `GET`/`HEAD /api/hello` and `/ak/:key/api/hello`: Claude Code's start-up reachability probe.
 *   It carries nothing, so it needs no key; the key in the path is neither checked nor echoed.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MODEL_MAPPINGS, type ModelMapping } from '../bedrock/models.ts';
import { ProxyError } from '../anthropic/errors.ts';
import { authenticate, refuse } from './admission.ts';
import type { ProxyDeps } from './deps.ts';
import { proxyError, requestReadError } from './errors.ts';

export type GatewayDeps = Pick<ProxyDeps, 'resolver' | 'modelMappings' | 'logger' | 'metrics' | 'addressFailures'>;

/** One entry of Anthropic's model list. */
export interface ModelEntry {
  type: 'model';
  id: string;
  display_name: string;
  /** RFC 3339; the Unix epoch when the release date is unknown (as Anthropic does). */
  created_at: string;
}

export interface ModelList {
  data: ModelEntry[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

const UNKNOWN_RELEASE = '1970-01-01T00:00:00Z';
const TIERS = ['opus', 'sonnet', 'haiku'] as const;
type Tier = (typeof TIERS)[number];

interface Parsed {
  tier: Tier;
  major: number;
  minor: number;
}

/** `claude-sonnet-4-5[-20250929]` (4.x and later) or `claude-3-7-sonnet[-20250219|-latest]` (3.x). */
function parseName(id: string): Parsed | null {
  const modern = /^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?=-|$))?(?:-|$)/.exec(id);
  if (modern) return { tier: modern[1] as Tier, major: Number(modern[2]), minor: Number(modern[3] ?? 0) };
  const legacy = /^claude-(\d+)(?:-(\d{1,2}))?-(opus|sonnet|haiku)(?:-|$)/.exec(id);
  if (legacy) return { tier: legacy[3] as Tier, major: Number(legacy[1]), minor: Number(legacy[2] ?? 0) };
  return null;
}

/** The first `YYYYMMDD` in the text, as an RFC 3339 midnight UTC, or null. */
function releaseDate(text: string): string | null {
  const m = /(?:^|[^0-9])(20\d{2})(\d{2})(\d{2})(?![0-9])/.exec(text);
  return m ? `${m[1]}-${m[2]}-${m[3]}T00:00:00Z` : null;
}

function displayName(id: string, parsed: Parsed | null): string {
  if (!parsed) return id;
  const tier = parsed.tier.charAt(0).toUpperCase() + parsed.tier.slice(1);
  return `Claude ${tier} ${parsed.major}${parsed.minor > 0 ? `.${parsed.minor}` : ''}`;
}

/**
 * The models a key can be served: every mapping's Anthropic name containing `claude` (admin rows
 * first, so an admin's spelling wins a case-insensitive duplicate), once each. Order is newest
 * family first (version, then opus/sonnet/haiku), dated ids before their aliases, then by id;
 * names that are not Claude-shaped come last by id. The same mappings always give the same list.
 */
export function listModels(adminRows: readonly ModelMapping[]): ModelEntry[] {
  const seen = new Set<string>();
  const rows: { entry: ModelEntry; parsed: Parsed | null; dated: boolean }[] = [];
  for (const row of [...adminRows, ...DEFAULT_MODEL_MAPPINGS]) {
    const id = row.model.trim();
    const key = id.toLowerCase();
    if (!key.includes('claude') || seen.has(key)) continue;
    seen.add(key);
    const parsed = parseName(key);
    // An alias has no date of its own: its Bedrock id usually carries the release date.
    const own = releaseDate(id);
    const createdAt = own ?? releaseDate(row.baseId) ?? UNKNOWN_RELEASE;
    rows.push({ entry: { type: 'model', id, display_name: displayName(id, parsed), created_at: createdAt }, parsed, dated: own !== null });
  }
  rows.sort((a, b) => {
    if (a.parsed && !b.parsed) return -1;
    if (!a.parsed && b.parsed) return 1;
    if (a.parsed && b.parsed) {
      const byVersion = b.parsed.major - a.parsed.major || b.parsed.minor - a.parsed.minor;
      if (byVersion) return byVersion;
      const byTier = TIERS.indexOf(a.parsed.tier) - TIERS.indexOf(b.parsed.tier);
      if (byTier) return byTier;
      if (a.dated !== b.dated) return a.dated ? -1 : 1;
      const byDate = b.entry.created_at.localeCompare(a.entry.created_at);
      if (byDate) return byDate;
    }
    return a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0;
  });
  return rows.map((r) => r.entry);
}

interface ListQuery {
  limit?: string;
  after_id?: string;
  before_id?: string;
}

/**
 * Anthropic's cursor paging, minimally: `after_id` / `before_id` pick the entries after / before
 * that id, and `limit` (1–1000) caps the page, with `has_more` telling whether more lie beyond it.
 * Without `limit` the whole list comes back (it is short, and a client that does not page still
 * sees every model). An unknown cursor id gives an empty page.
 */
function page(all: readonly ModelEntry[], query: ListQuery): ModelList | ProxyError {
  let limit: number | undefined;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return proxyError('PROXY_BAD_LIMIT');
    }
  }
  let data: ModelEntry[];
  let more = false;
  if (query.before_id !== undefined) {
    const end = all.findIndex((m) => m.id === query.before_id);
    const start = end < 0 ? 0 : limit === undefined ? 0 : Math.max(0, end - limit);
    data = end < 0 ? [] : all.slice(start, end);
    more = start > 0;
  } else {
    const at = query.after_id === undefined ? 0 : all.findIndex((m) => m.id === query.after_id) + 1;
    const from = query.after_id !== undefined && at === 0 ? all.length : at;
    const to = limit === undefined ? all.length : Math.min(all.length, from + limit);
    data = all.slice(from, to);
    more = to < all.length;
  }
  return { data, has_more: more, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

type KeyParams = { key?: string };

export async function gatewayEndpoints(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  // Anthropic's error shape for anything thrown here too, like the messages routes.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const error = requestReadError(err);
    if (error.status === 500) deps.logger.error({ err, reqId: request.id }, 'unhandled gateway error');
    return refuse(deps, reply, request.id, error);
  });

  const hello = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(200).send();
  for (const path of ['/api/hello', '/ak/:key/api/hello']) {
    // Fastify adds HEAD for each GET route (exposeHeadRoutes): same status, no body.
    app.get(path, hello);
  }

  const list = async (request: FastifyRequest<{ Params: KeyParams; Querystring: ListQuery }>, reply: FastifyReply) => {
    const key = await authenticate(deps, request, reply);
    if (!key) return reply;
    const answer = page(listModels(deps.modelMappings()), request.query);
    if (answer instanceof ProxyError) return refuse(deps, reply, request.id, answer);
    accessLine(deps, request, reply, key.keyPrefix, 200);
    return reply.code(200).header('request-id', request.id).type('application/json').send(answer);
  };
  app.get('/v1/models', list);
  app.get('/ak/:key/v1/models', list);

  const one = async (request: FastifyRequest<{ Params: KeyParams & { id: string } }>, reply: FastifyReply) => {
    const key = await authenticate(deps, request, reply);
    if (!key) return reply;
    const wanted = request.params.id.trim().toLowerCase();
    const model = listModels(deps.modelMappings()).find((m) => m.id.toLowerCase() === wanted);
    if (!model) {
      // The id is the client's own text, not a secret: naming it says what was not found.
      return refuse(deps, reply, request.id, proxyError('PROXY_MODEL_NOT_FOUND', request.params.id));
    }
    accessLine(deps, request, reply, key.keyPrefix, 200);
    return reply.code(200).header('request-id', request.id).type('application/json').send(model);
  };
  app.get('/v1/models/:id', one);
  app.get('/ak/:key/v1/models/:id', one);
}

/** One access line per answered request (Fastify's own request logging is off); never the key itself. */
function accessLine(deps: GatewayDeps, request: FastifyRequest, reply: FastifyReply, keyPrefix: string, status: number): void {
  deps.logger.info({ reqId: request.id, keyPrefix, route: request.routeOptions.url?.replace('/ak/:key', ''), status, latencyMs: Math.round(reply.elapsedTime) }, 'gateway request');
}
