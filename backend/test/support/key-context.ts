import type { KeyContext } from '../../src/proxy/access-keys.ts';

/** A resolved access key as the proxy holds it: plan_first, no budget, no limits, unless overridden. */
export function keyContext(over: Partial<KeyContext> = {}): KeyContext {
  const accessKeyId = over.accessKeyId ?? 'key-1';
  return {
    accessKeyId,
    userId: `user-${accessKeyId}`,
    keyPrefix: 'ak_abcdefgh',
    routingStrategy: 'plan_first',
    bedrockRegion: null,
    monthlyBudgetUsd: null,
    maxRequestsPerMinute: null,
    maxInFlight: null,
    planSwitchThreshold: null,
    planOverage: 'move',
    expiresAt: null,
    ...over,
  };
}
