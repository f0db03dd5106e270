import type { FallbackUnavailable } from '../accounting/usage-event.ts';
import type { KeyContext } from './access-keys.ts';
import type { CircuitDecision } from './circuit-breaker.ts';
import type { Endpoint } from './exchange.ts';
import type { FallbackReason, PlanVerdict } from './plan-verdict.ts';
import type { Park } from './plan-window-policy.ts';

/** What is known so far about where a request goes. */
export interface RoutingState {
  strategy: KeyContext['routingStrategy'];
  endpoint: Endpoint;
  /** The key's circuit breaker (asked for `plan_first` messages only; `try` otherwise). */
  breaker: CircuitDecision;
  /** The key's Plan window is parked for this model (a limit or the user's threshold): skip Anthropic until its reset. */
  parked?: Park['reason'] | null;
  /** The session moved to Bedrock earlier and its prompt cache there is warm. */
  sessionOnBedrock?: boolean;
  /** Whether a Bedrock credential is at hand; undefined until looked up (it may cost a query). */
  credential?: boolean;
  /** Whether the model has a Bedrock mapping (admin rows or the shipped defaults, from memory). */
  mapped: boolean;
  /** Anthropic's answer judged, once tried. */
  plan?: PlanVerdict;
  /** The client went away meanwhile. */
  clientGone?: boolean;
}

export type Action =
  | { do: 'look-up-credential' }
  | { do: 'try-plan' }
  /**
   * Anthropic's answer goes to the client as it is (a success, a request error, or no fallback
   * possible); `unavailable` says why a fallback Anthropic's answer called for could not happen.
   */
  | { do: 'relay-plan'; unavailable?: FallbackUnavailable }
  | { do: 'serve-bedrock'; reason: FallbackReason | null }
  | { do: 'count-on-bedrock' }
  | { do: 'refuse'; code: 'PROXY_NO_BEDROCK_KEY' | 'PROXY_COUNT_TOKENS_UNAVAILABLE' | 'BEDROCK_MODEL_UNKNOWN' };

/**
 * The next step for a request, from its user's routing strategy, the key's Plan window and breaker,
 * the session's last provider, whether it has a Bedrock credential and what Anthropic answered.
 * Pure: the caller does each step and calls again with what it learnt, until a step that answers
 * the client.
 */
export function nextAction(s: RoutingState): Action {
  if (s.strategy === 'bedrock_only') {
    if (s.credential === undefined) return { do: 'look-up-credential' };
    // count_tokens: Claude Code falls back to a local estimate on this 404.
    if (!s.credential) return { do: 'refuse', code: s.endpoint === 'count_tokens' ? 'PROXY_COUNT_TOKENS_UNAVAILABLE' : 'PROXY_NO_BEDROCK_KEY' };
    if (s.endpoint === 'count_tokens') return { do: 'count-on-bedrock' };
    return s.mapped ? { do: 'serve-bedrock', reason: null } : { do: 'refuse', code: 'BEDROCK_MODEL_UNKNOWN' };
  }
  const mayFallBack = s.strategy === 'plan_first' && s.endpoint === 'messages';
  if (s.plan === undefined) {
    const skip: FallbackReason | null = !mayFallBack
      ? null
      : (s.parked ?? (s.breaker === 'skip' ? 'circuit_open' : s.sessionOnBedrock ? 'session_sticky' : null));
    if (skip) {
      if (s.credential === undefined) return { do: 'look-up-credential' };
      if (s.credential && s.mapped) return { do: 'serve-bedrock', reason: skip };
      // Nowhere else to go: Anthropic it is.
    }
    return { do: 'try-plan' };
  }
  if (s.plan.action === 'relay' || !mayFallBack || s.clientGone) return { do: 'relay-plan' };
  if (s.credential === undefined) return { do: 'look-up-credential' };
  // A fallback that cannot happen leaves the client Anthropic's own answer (it knows how to retry that).
  if (!s.credential) return { do: 'relay-plan', unavailable: 'no_bedrock_key' };
  if (!s.mapped) return { do: 'relay-plan', unavailable: 'no_mapping' };
  return { do: 'serve-bedrock', reason: s.plan.reason };
}
