import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UnifiedLimits } from '../anthropic/unified-limits.ts';
import type { KeyContext } from './access-keys.ts';
import { authenticate, refuse } from './admission.ts';
import { bedrockCredentialOf } from './bedrock-attempt.ts';
import type { ProxyDeps } from './deps.ts';
import { requestReadError } from './errors.ts';
import type { FallbackReason } from './plan-verdict.ts';
import { policyOf, type Park } from './plan-window-policy.ts';
import { nextAction, type RoutingState } from './routing.ts';
import type { PlanWindowEntry } from './plan-windows.ts';

/**
 * `GET|POST /ak/{key}/status` (or `/status` with `x-proxy-key`): where the developer stands, for
 * Claude Code's `statusLine` command — the provider serving them now and why, the Plan's 5-hour and
 * 7-day use with their resets, and this month's Bedrock spend against the budget. One line of text,
 * or JSON with `?format=json`. A POST may carry what Claude Code pipes to the command (its
 * `model.id` and `session_id`), so the line speaks of that model and session.
 */

export type StatusDeps = Pick<ProxyDeps, 'resolver' | 'logger' | 'metrics' | 'addressFailures' | 'planWindows' | 'planSwitchThreshold' | 'sessions' | 'breakers' | 'bedrockAuth' | 'bedrockKeys'> & {
  /** This month's Bedrock spend of a user and the budget (null: none); cached briefly by the caller. */
  bedrockSpend(userId: string): Promise<{ spentUsd: string; budgetUsd: string | null; resetsAt: Date }>;
  timeZone: string;
};

export interface Status {
  provider: 'plan' | 'bedrock';
  /** Why Bedrock serves now (null: it does not, or it is the user's only provider). */
  reason: FallbackReason | null;
  /** When requests go back to Anthropic, when known. */
  until: string | null;
  routing_strategy: KeyContext['routingStrategy'];
  plan: {
    status: UnifiedLimits['status'];
    observed_at: string;
    five_hour: { utilization: number | null; resets_at: string | null } | null;
    seven_day: { utilization: number | null; resets_at: string | null } | null;
  } | null;
  bedrock: { spent_usd: string; budget_usd: string | null; left_usd: string | null; resets_at: string };
  text: string;
}

const iso = (unixSeconds: number | null | undefined): string | null => (unixSeconds ? new Date(unixSeconds * 1000).toISOString() : null);

/**
 * Where a request of this key (for `model`, in `sessionId`) goes now: the proxy's own routing
 * decision (proxy/routing.ts), taken from the breaker's state rather than its decision (which would
 * hand out a probe), for a mapped model. A `plan_first` key that would skip Anthropic has its Bedrock
 * credential looked up as a request would (cached, proxy/bedrock-keys.ts): without one it stays on
 * the Plan. A `bedrock_only` key is Bedrock's either way (without a key its requests are refused,
 * and say so).
 */
async function routeNow(deps: StatusDeps, key: KeyContext, model: string, sessionId: string | undefined, reqId: string): Promise<{ provider: Status['provider']; reason: Status['reason']; park: Park | null }> {
  const mayFallBack = key.routingStrategy === 'plan_first';
  const park = mayFallBack ? deps.planWindows.park(key.accessKeyId, policyOf(key, deps.planSwitchThreshold), model) : null;
  const state: RoutingState = {
    strategy: key.routingStrategy,
    endpoint: 'messages',
    parked: park?.reason ?? null,
    breaker: deps.breakers.snapshot(key.accessKeyId).state === 'open' ? 'skip' : 'try',
    sessionOnBedrock: mayFallBack && deps.sessions.warmOnBedrock(key.accessKeyId, sessionId),
    credential: mayFallBack ? undefined : true,
    mapped: true,
  };
  let action = nextAction(state);
  if (action.do === 'look-up-credential') {
    state.credential = (await bedrockCredentialOf(deps, key, reqId)) !== undefined;
    action = nextAction(state);
  }
  return action.do === 'serve-bedrock' ? { provider: 'bedrock', reason: action.reason, park } : { provider: 'plan', reason: null, park: null };
}

/** The status of a key now: pure but for the clock. */
function statusOf(input: {
  key: KeyContext;
  route: Awaited<ReturnType<typeof routeNow>>;
  entry: PlanWindowEntry | undefined;
  spend: { spentUsd: string; budgetUsd: string | null; resetsAt: Date };
  timeZone: string;
}): Status {
  const { key, route, entry, spend, timeZone } = input;
  const limits = entry?.limits;
  const window = (w: UnifiedLimits['windows']['five_hour']) => (w ? { utilization: w.utilization, resets_at: iso(w.resetsAt) } : null);
  const left = spend.budgetUsd === null ? null : Math.max(0, Number(spend.budgetUsd) - Number(spend.spentUsd)).toFixed(2);
  const status: Omit<Status, 'text'> = {
    provider: route.provider,
    reason: route.reason,
    until: route.park ? new Date(route.park.until).toISOString() : null,
    routing_strategy: key.routingStrategy,
    plan: limits && entry
      ? { status: limits.status, observed_at: new Date(entry.observedAt).toISOString(), five_hour: window(limits.windows.five_hour), seven_day: window(limits.windows.seven_day) }
      : null,
    bedrock: { spent_usd: Number(spend.spentUsd).toFixed(2), budget_usd: spend.budgetUsd === null ? null : Number(spend.budgetUsd).toFixed(2), left_usd: left, resets_at: spend.resetsAt.toISOString() },
  };
  return { ...status, text: statusText(status, timeZone) };
}

// Before Anthropic is asked, only these take a request to Bedrock (proxy/routing.ts).
const REASONS: Partial<Record<FallbackReason, string>> = {
  usage_limit: 'Plan limit',
  plan_threshold: 'Plan threshold',
  circuit_open: 'Anthropic failing',
  session_sticky: 'session cache',
};

/** `Plan · 5h 42% (resets 14:00) · 7d 63% (resets Mon 09:00) · Bedrock $12.40 of $100.00 this month`. */
function statusText(s: Omit<Status, 'text'>, timeZone: string): string {
  const time = (at: string, withDay: boolean) =>
    new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', ...(withDay ? { weekday: 'short' } : {}) }).format(new Date(at));
  const percent = (u: number | null) => (u === null ? '?' : `${Math.round(u * 100)}%`);
  const parts: string[] = [];
  const why = s.reason ? ` (${REASONS[s.reason] ?? s.reason}${s.until ? ` until ${time(s.until, Date.parse(s.until) - Date.now() > 86_400_000)}` : ''})` : '';
  parts.push(`${s.provider === 'plan' ? 'Plan' : 'Bedrock'}${why}`);
  if (s.plan) {
    const w = (name: string, r: { utilization: number | null; resets_at: string | null } | null, withDay: boolean) =>
      r ? `${name} ${percent(r.utilization)}${r.resets_at ? ` (resets ${time(r.resets_at, withDay)})` : ''}` : null;
    for (const text of [w('5h', s.plan.five_hour, false), w('7d', s.plan.seven_day, true)]) if (text) parts.push(text);
  } else if (s.routing_strategy !== 'bedrock_only') {
    parts.push('no Plan reading yet');
  }
  if (s.routing_strategy !== 'plan_only') {
    parts.push(`Bedrock $${s.bedrock.spent_usd}${s.bedrock.budget_usd === null ? '' : ` of $${s.bedrock.budget_usd}`} this month`);
  }
  return parts.join(' · ');
}

type StatusRequest = FastifyRequest<{ Params: { key?: string }; Querystring: { format?: string }; Body: unknown }>;

/** Claude Code's statusLine input, as far as the status needs it (anything else is ignored). */
function statusInput(body: unknown): { model: string; sessionId: string | undefined } {
  const b = (body && typeof body === 'object' ? body : {}) as { model?: { id?: unknown }; session_id?: unknown };
  return {
    model: typeof b.model?.id === 'string' ? b.model.id : '',
    sessionId: typeof b.session_id === 'string' ? b.session_id : undefined,
  };
}

type Spend = Awaited<ReturnType<StatusDeps['bedrockSpend']>>;

/**
 * A user's spend, remembered for `ttlMs`: Claude Code runs its status line after every message, and
 * each developer's line should not be a query each time.
 */
export function cachedSpend(load: (userId: string) => Promise<Spend>, ttlMs = 10_000, max = 10_000): (userId: string) => Promise<Spend> {
  const cache = new Map<string, { at: number; value: Promise<Spend> }>();
  return (userId) => {
    const hit = cache.get(userId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    const value = load(userId);
    cache.set(userId, { at: Date.now(), value });
    value.catch(() => cache.delete(userId));
    return value;
  };
}

export async function statusRoutes(app: FastifyInstance, deps: StatusDeps): Promise<void> {
  // Whatever Claude Code pipes in (JSON, any or no content type) is read leniently: it only refines the line.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    try {
      done(null, body ? (JSON.parse(body as string) as unknown) : undefined);
    } catch {
      done(null, undefined);
    }
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const error = requestReadError(err);
    if (error.status === 500) deps.logger.error({ err, reqId: request.id }, 'unhandled status error');
    return refuse(deps, reply, request.id, error);
  });
  const status = async (request: StatusRequest, reply: FastifyReply) => {
    const key = await authenticate(deps, request, reply);
    if (!key) return reply;
    const { model, sessionId } = statusInput(request.body);
    const spend = await deps.bedrockSpend(key.userId);
    const s = statusOf({ key, route: await routeNow(deps, key, model, sessionId, request.id), entry: deps.planWindows.get(key.accessKeyId), spend, timeZone: deps.timeZone });
    reply.header('request-id', request.id).header('cache-control', 'no-store');
    if (request.query.format === 'json') return reply.code(200).type('application/json').send(s);
    return reply.code(200).type('text/plain; charset=utf-8').send(`${s.text}\n`);
  };
  for (const path of ['/status', '/ak/:key/status']) {
    app.get(path, status);
    app.post(path, status);
  }
}
