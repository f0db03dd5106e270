import type { PriceCache } from './accounting/price-cache.ts';
import type { Change, ChangeSubscriber } from './db/change-feed.ts';
import type { AccessKeyResolver } from './proxy/access-keys.ts';
import type { BedrockKeyStore } from './proxy/bedrock-keys.ts';
import type { CircuitBreakers } from './proxy/circuit-breaker.ts';
import type { ModelMappingCache } from './proxy/model-mappings.ts';
import type { PlanWindowSync } from './proxy/plan-window-sync.ts';
import type { PlanWindows } from './proxy/plan-windows.ts';

export interface ProxyCaches {
  resolver: Pick<AccessKeyResolver, 'invalidate'>;
  bedrockKeys: Pick<BedrockKeyStore, 'invalidate' | 'invalidateAll'>;
  breakers: Pick<CircuitBreakers, 'reset'>;
  /** Plan readings: other tasks store theirs and say so; an admin reset forgets a key's. */
  planWindows: Pick<PlanWindows, 'forget'>;
  planWindowSync: Pick<PlanWindowSync, 'load'>;
  modelMappings: Pick<ModelMappingCache, 'refresh'>;
  /** Model prices used to cost each request and size budget reservations. */
  prices: Pick<PriceCache, 'refresh'>;
}

/**
 * Which of the proxy's in-memory state an admin change makes stale, the same in the process that
 * made it and in every other one (db/change-feed.ts carries it there).
 */
export function cacheCoherence(caches: ProxyCaches): ChangeSubscriber {
  return {
    async onChange(change: Change) {
      switch (change.topic) {
        case 'access_key':
          // Revoked, rotated (now with an expiry) or a new Bedrock region: re-read on next use.
          if (change.id) {
            const id = change.id;
            caches.resolver.invalidate((ctx) => ctx.accessKeyId === id);
            caches.bedrockKeys.invalidate(id);
          }
          return;
        case 'user':
          // Status and routing strategy live in every cached key context of the user.
          if (change.id) {
            const id = change.id;
            caches.resolver.invalidate((ctx) => ctx.userId === id);
          }
          return;
        case 'bedrock_key':
          if (change.id) caches.bedrockKeys.invalidate(change.id);
          return;
        case 'model_mappings':
          await caches.modelMappings.refresh();
          return;
        case 'model_prices':
          await caches.prices.refresh();
          return;
        case 'circuit_breaker':
          // An admin reset means "try Anthropic again" everywhere, not just on the task that served it.
          if (change.id) {
            caches.breakers.reset(change.id);
            caches.planWindows.forget(change.id);
          }
          return;
        case 'plan_window':
          // Another task stored the readings it observed: read them.
          await caches.planWindowSync.load();
          return;
      }
    },
    async onGap() {
      caches.resolver.invalidate(() => true);
      caches.bedrockKeys.invalidateAll();
      await caches.modelMappings.refresh();
      await caches.prices.refresh();
      await caches.planWindowSync.load();
    },
  };
}
