import { describe, expect, it } from 'vitest';
import { cacheCoherence } from '../../src/cache-coherence.ts';
import type { KeyContext } from '../../src/proxy/access-keys.ts';

function caches() {
  const calls: string[] = [];
  const contexts: KeyContext[] = [
    { accessKeyId: 'k1', userId: 'u1', keyPrefix: 'ak_1', routingStrategy: 'plan_first', bedrockRegion: null, expiresAt: null },
    { accessKeyId: 'k2', userId: 'u2', keyPrefix: 'ak_2', routingStrategy: 'plan_first', bedrockRegion: null, expiresAt: null },
  ] as KeyContext[];
  return {
    calls,
    caches: {
      resolver: { invalidate: (match: (ctx: KeyContext) => boolean) => void calls.push(`resolver:${contexts.filter(match).map((c) => c.accessKeyId).join(',')}`) },
      bedrockKeys: { invalidate: (id: string) => void calls.push(`bedrock:${id}`), invalidateAll: () => void calls.push('bedrock:*') },
      breakers: { reset: (id: string) => void calls.push(`breaker:${id}`) },
      planWindows: { forget: (id: string) => void calls.push(`plan:${id}`) },
      planWindowSync: { load: async () => void calls.push('plan:load') },
      modelMappings: { refresh: async () => void calls.push('mappings') },
      // Caches other parts add (prices) answer here too.
      prices: { refresh: async () => void calls.push('prices') },
    },
  };
}

describe('cache coherence', () => {
  it.each([
    [{ topic: 'access_key', id: 'k1' }, ['resolver:k1', 'bedrock:k1']],
    [{ topic: 'user', id: 'u2' }, ['resolver:k2']],
    [{ topic: 'bedrock_key', id: 'k2' }, ['bedrock:k2']],
    [{ topic: 'model_mappings' }, ['mappings']],
    [{ topic: 'circuit_breaker', id: 'k1' }, ['breaker:k1', 'plan:k1']],
    [{ topic: 'plan_window' }, ['plan:load']],
  ] as const)('%j drops %j', async (change, expected) => {
    const { calls, caches: c } = caches();
    const subscriber = cacheCoherence(c as never);
    await subscriber.onChange(change);
    expect(calls).toEqual(expected);
  });

  it('drops everything after a gap in the notifications', async () => {
    const { calls, caches: c } = caches();
    await cacheCoherence(c as never).onGap();
    expect(calls).toEqual(expect.arrayContaining(['resolver:k1,k2', 'bedrock:*', 'mappings', 'plan:load']));
  });
});
