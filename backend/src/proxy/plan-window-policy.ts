import { WINDOWS, type UnifiedClaim, type UnifiedLimits } from '../anthropic/unified-limits.ts';

/** A user's rule for leaving the Plan (README, "Plan window"). */
export interface PlanPolicy {
  /** 0–1: a window at or above this utilization sends `plan_first` requests to Bedrock until it resets. */
  threshold: number;
  /** With paid overage available: `stay` on Anthropic (the developer's overage pays) or `move` to Bedrock. */
  overage: 'stay' | 'move';
}

/** A user's policy from their key context: their own threshold, else the server's. */
export function policyOf(key: { planSwitchThreshold: number | null; planOverage: PlanPolicy['overage'] }, serverThreshold: number): PlanPolicy {
  return { threshold: key.planSwitchThreshold ?? serverThreshold, overage: key.planOverage };
}

/** Why and until when a key's `plan_first` requests go to Bedrock without asking Anthropic. */
export interface Park {
  /** `usage_limit`: Anthropic said rejected; `plan_threshold`: the user's threshold was reached first. */
  reason: 'usage_limit' | 'plan_threshold';
  window: UnifiedClaim;
  /** Epoch ms: the window's reset, when requests go back to Anthropic. */
  until: number;
}

// A reading without a reset time says nothing about when to ask again: ask again after this long.
const UNKNOWN_RESET_MS = 5 * 60_000;

/** The model family a family-scoped weekly window binds (`seven_day_opus` → opus), from the model name. */
export function modelFamily(model: string): 'opus' | 'sonnet' | null {
  if (/opus/i.test(model)) return 'opus';
  if (/sonnet/i.test(model)) return 'sonnet';
  return null;
}

function bindsModel(claim: UnifiedClaim, model: string): boolean {
  if (claim === 'seven_day_opus') return modelFamily(model) === 'opus';
  if (claim === 'seven_day_sonnet') return modelFamily(model) === 'sonnet';
  return true;
}

/**
 * Whether a request for `model` skips Anthropic, from the last reading of the key's Plan windows
 * (taken at `observedAt`). Parked until the binding window resets; a window whose reset has passed
 * is a new window, so its old utilization no longer counts. A warning Anthropic reports is shown
 * elsewhere, never acted on here: the Plan is paid for either way. Pure.
 */
export function parkFor(limits: UnifiedLimits, observedAt: number, policy: PlanPolicy, model: string, now: number): Park | null {
  // Paid overage keeps the Plan credential working past the limit: the admin decides whether to use it.
  const onOverage = limits.overageStatus === 'allowed' || limits.overageStatus === 'allowed_warning';
  if (onOverage && policy.overage === 'stay') return null;
  const untilOf = (claim: UnifiedClaim, resetsAt: number | null): number => (resetsAt !== null ? resetsAt * 1000 : observedAt + UNKNOWN_RESET_MS);
  const parks: Park[] = [];
  if (limits.status === 'rejected') {
    const claim = limits.claim ?? 'five_hour';
    if (bindsModel(claim, model)) parks.push({ reason: 'usage_limit', window: claim, until: untilOf(claim, limits.resetsAt ?? limits.windows[claim]?.resetsAt ?? null) });
  }
  for (const [claim] of WINDOWS) {
    const w = limits.windows[claim];
    if (claim === 'overage' || !w || w.utilization === null || w.utilization < policy.threshold || !bindsModel(claim, model)) continue;
    parks.push({ reason: 'plan_threshold', window: claim, until: untilOf(claim, w.resetsAt) });
  }
  // The latest reset binds: requests return only once every window that parked them has reset.
  let park: Park | null = null;
  for (const p of parks) if (p.until > now && (!park || p.until > park.until)) park = p;
  return park;
}
