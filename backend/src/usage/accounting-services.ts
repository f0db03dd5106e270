import type { Db } from '../db/client.ts';
import { createBudgetRepository, type BudgetRepository } from '../db/budget-repository.ts';
import { createPriceRepository, type PriceRepository } from '../db/price-repository.ts';
import { createRequestLogRepository, type RequestLogRepository } from '../db/request-log-repository.ts';
import { createUsageReportRepository, type UsageReportRepository } from '../db/usage-report-repository.ts';
import { createUsageRepository, type UsageRepository } from '../db/usage-repository.ts';
import type { Logger } from '../observability/logger.ts';
import { createBudgetGate, type BudgetGate } from '../accounting/budgets.ts';
import type { EventCost } from '../accounting/cost.ts';
import { DEFAULT_PRICES } from '../accounting/default-prices.ts';
import { createEventPricer } from '../accounting/event-pricer.ts';
import { createPriceCache, type PriceCache } from '../accounting/price-cache.ts';
import type { UsageEvent } from '../accounting/usage-event.ts';

/** Prices, costs, rollups, reports and budgets, wired once for the app (app.ts). */
export interface AccountingServices {
  timeZone: string;
  prices: PriceCache;
  priceRows: PriceRepository;
  /** The recorder's pricing step. */
  price: (event: UsageEvent) => EventCost | null;
  /** The recorder's storage: events, rollups and budget settlement in one transaction. */
  usage: UsageRepository;
  reports: UsageReportRepository;
  /** The request log (admin/requests.ts). */
  requestLog: RequestLogRepository;
  budgetRows: BudgetRepository;
  budgets: BudgetGate;
  stop(): void;
}

export async function createAccountingServices(options: {
  db: Db;
  timeZone: string;
  logger: Logger;
  /** Metric hook: an event used tokens of a model with no price. */
  onUnpriced?: (event: UsageEvent) => void;
}): Promise<AccountingServices> {
  const { db, timeZone, logger } = options;
  const priceRows = createPriceRepository(db);
  const added = await priceRows.seed(DEFAULT_PRICES);
  if (added > 0) logger.info({ prices: added }, 'added shipped model prices');
  const prices = await createPriceCache({
    load: () => priceRows.list(),
    onError: (err) => logger.warn({ err }, 'model prices refresh failed; keeping the last ones'),
  });
  const budgetRows = createBudgetRepository(db);
  const budgets = createBudgetGate({ store: budgetRows, prices, timeZone, logger });
  return {
    timeZone,
    prices,
    priceRows,
    price: createEventPricer({ prices, logger, ...(options.onUnpriced ? { onUnpriced: options.onUnpriced } : {}) }),
    usage: createUsageRepository(db, { timeZone }),
    reports: createUsageReportRepository(db),
    requestLog: createRequestLogRepository(db),
    budgetRows,
    budgets,
    stop() {
      budgets.stop();
      prices.stop();
    },
  };
}
