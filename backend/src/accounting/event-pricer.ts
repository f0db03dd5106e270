import type { Logger } from '../observability/logger.ts';
import { costEvent, type EventCost } from './cost.ts';
import type { PriceBook } from './pricing.ts';
import type { UsageEvent } from './usage-event.ts';

export interface EventPricerOptions {
  prices: { current(): PriceBook };
  logger: Logger;
  /** Called for every event that used tokens of a model with no price (the metric hook). */
  onUnpriced?: (event: UsageEvent) => void;
  /** At most one warning per provider and model in this window (default 10 minutes). */
  warnEveryMs?: number;
  now?: () => number;
}

/**
 * The recorder's pricing step: the cost of an event from the in-memory price book. Never throws
 * (recording must not fail a request). A model with no price gets a null cost — unknown, not $0 —
 * and a warning naming it, so an admin can add the price.
 */
export function createEventPricer(options: EventPricerOptions): (event: UsageEvent) => EventCost | null {
  const warnEvery = options.warnEveryMs ?? 600_000;
  const now = options.now ?? Date.now;
  const lastWarned = new Map<string, number>();
  return (event) => {
    let cost: EventCost | null;
    try {
      cost = costEvent(options.prices.current(), event);
    } catch (err) {
      options.logger.error({ err, reqId: event.requestId, code: 'ACCOUNTING_PRICING_FAILED' }, 'could not price a usage event; cost left unknown');
      return null;
    }
    if (cost) return cost;
    options.onUnpriced?.(event);
    const model = event.servedModel ?? event.requestedModel ?? 'unknown';
    const key = `${event.provider}|${event.region ?? ''}|${model}`;
    const t = now();
    if (t - (lastWarned.get(key) ?? -Infinity) >= warnEvery) {
      lastWarned.set(key, t);
      options.logger.warn(
        { code: 'ACCOUNTING_NO_PRICE', reqId: event.requestId, provider: event.provider, region: event.region ?? null, model },
        'no price for this model: its cost is recorded as unknown (null); add a price with POST /admin/pricing',
      );
    }
    return null;
  };
}
