import { findBedrockModel } from '../bedrock/models.ts';
import { bedrockCredential, countOnBedrock, serveBedrock } from './bedrock-attempt.ts';
import { proxyError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { tryPlan, type PlanAttempt } from './plan-attempt.ts';
import { policyOf } from './plan-window-policy.ts';
import { relay } from './relay.ts';
import { nextAction, type RoutingState } from './routing.ts';

/**
 * Serves an admitted request: asks `nextAction` where it goes, does that step, and asks again with
 * what it learnt, until a step answers the client. Breaker bookkeeping happens here, where
 * Anthropic's answers are seen.
 */
export async function serve(x: Exchange): Promise<void> {
  const { deps, key } = x;
  if (x.endpoint === 'messages' && !x.stream) {
    // Claude Code's non-streaming re-send of a stream that ended because both upstreams failed.
    const failed = deps.finalFailures.take(key.accessKeyId, x.parsed);
    if (failed) {
      x.provider = 'bedrock'; // the failure told is Bedrock's, from the stream this re-sends
      return x.fail(failed, 'upstream_error');
    }
  }
  const mayFallBack = key.routingStrategy === 'plan_first' && x.endpoint === 'messages';
  const park = mayFallBack ? deps.planWindows.park(key.accessKeyId, policyOf(key, deps.planSwitchThreshold), String(x.parsed.model)) : null;
  const state: RoutingState = {
    strategy: key.routingStrategy,
    endpoint: x.endpoint,
    parked: park?.reason ?? null,
    // A parked key does not ask its breaker: that would take the probe another request should make.
    breaker: mayFallBack && !park ? deps.breakers.decide(key.accessKeyId) : 'try',
    sessionOnBedrock: mayFallBack && deps.sessions.warmOnBedrock(key.accessKeyId, x.sessionId),
    // From memory (proxy/model-mappings.ts and the shipped table): no query.
    mapped: key.routingStrategy !== 'plan_only' && findBedrockModel(String(x.parsed.model), x.region, deps.modelMappings()) !== null,
  };
  let apiKey: string | null = null;
  const lookUpCredential = async () => {
    const credential = await bedrockCredential(x);
    state.credential = credential !== undefined;
    apiKey = credential?.apiKey ?? null;
  };
  let attempt: Exclude<PlanAttempt, { kind: 'aborted' }> | undefined;
  for (;;) {
    const action = nextAction(state);
    switch (action.do) {
      case 'look-up-credential':
        await lookUpCredential();
        continue;
      case 'try-plan': {
        const tried = await tryPlan(x);
        if (tried.kind === 'aborted') {
          if (state.breaker === 'probe') deps.breakers.release(key.accessKeyId);
          return x.finish({ status: 499, outcome: 'aborted' });
        }
        attempt = tried;
        state.plan = tried.verdict;
        if (mayFallBack && tried.verdict.action === 'relay') deps.breakers.success(key.accessKeyId);
        if (mayFallBack && tried.verdict.action === 'fallback') {
          // The breaker sends a key to Bedrock: a key without a Bedrock key has nowhere to go, so its
          // failures do not open one (it keeps trying Anthropic, whose answers Claude Code retries).
          if (tried.verdict.countsForBreaker && state.credential === undefined) await lookUpCredential();
          if (tried.verdict.countsForBreaker && state.credential) deps.breakers.failure(key.accessKeyId, tried.verdict.reason);
          // The Plan's limit says nothing about an outage (and a key without a Bedrock key cannot
          // use an open breaker): a probe that met either lets a later request probe.
          else if (state.breaker === 'probe') deps.breakers.release(key.accessKeyId);
        }
        state.clientGone = x.down.closed;
        continue;
      }
      case 'relay-plan':
        if (!attempt) throw new Error('relay-plan before Anthropic was tried');
        x.fallbackUnavailable = action.unavailable ?? null;
        // Anthropic's answer as it was; a failure to reach it, in Anthropic's shape.
        return attempt.kind === 'response' ? relay(x, attempt.response) : x.fail(attempt.error, 'upstream_error');
      case 'serve-bedrock':
        return serveBedrock(x, apiKey, action.reason);
      case 'count-on-bedrock':
        return countOnBedrock(x, apiKey);
      case 'refuse':
        if (action.code === 'BEDROCK_MODEL_UNKNOWN') {
          x.provider = 'bedrock';
          return x.refuse(proxyError(action.code, String(x.parsed.model)));
        }
        if (action.code === 'PROXY_COUNT_TOKENS_UNAVAILABLE') x.provider = 'bedrock';
        return x.refuse(proxyError(action.code));
    }
  }
}
