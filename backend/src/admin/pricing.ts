import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { parseLocalDate } from '../accounting/calendar.ts';
import { MoneyError, parseUsdInput, PRICE_SCALE } from '../accounting/money.ts';
import { pricingModel, type ModelPrice, type PriceRates } from '../accounting/pricing.ts';
import { createPriceRepository } from '../db/price-repository.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { AddPriceBody, NoContent, Price, PriceIdParams, PriceList, PriceListQuery, rateFields } from './schemas.ts';
import { isUniqueViolation } from './users.ts';

// Model prices (USD per million tokens) with effective dates. Rows are history: a new price is a
// new row from its effective time on; costs already recorded keep the snapshot they were priced with.

const ratesJson = (r: PriceRates) => ({
  input_usd_per_mtok: r.input,
  output_usd_per_mtok: r.output,
  cache_write_5m_usd_per_mtok: r.cacheWrite5m,
  cache_write_1h_usd_per_mtok: r.cacheWrite1h,
  cache_read_usd_per_mtok: r.cacheRead,
});

function priceJson(p: ModelPrice, inEffect: boolean): Static<typeof Price> {
  return {
    id: p.id,
    provider: p.provider,
    region: p.region,
    model: p.model,
    ...ratesJson(p.rates),
    long_context: p.longContext ? { threshold_tokens: p.longContext.thresholdTokens, ...ratesJson(p.longContext.rates) } : null,
    effective_from: p.effectiveFrom.toISOString(),
    in_effect: inEffect,
  };
}

/** Ids of the rows in effect at `now`: per provider, region and model, the latest not after it. */
function inEffectIds(rows: readonly ModelPrice[], now: Date): Set<string> {
  const best = new Map<string, ModelPrice>();
  for (const row of rows) {
    if (row.effectiveFrom > now) continue;
    const key = `${row.provider}|${row.region ?? ''}|${row.model}`;
    const current = best.get(key);
    if (!current || row.effectiveFrom > current.effectiveFrom) best.set(key, row);
  }
  return new Set([...best.values()].map((r) => r.id));
}

type RateFields = { [K in keyof typeof rateFields]: string | number };

/** The five rates as canonical decimal strings; a bad one is a 400 naming its field. */
function rates(body: RateFields, prefix: string): PriceRates {
  const field = (name: keyof typeof rateFields): string => {
    try {
      return parseUsdInput(body[name], PRICE_SCALE);
    } catch (err) {
      if (err instanceof MoneyError) throw new AdminError(400, 'invalid_request_error', `${prefix}${name}: ${err.message}`);
      throw err;
    }
  };
  return {
    input: field('input_usd_per_mtok'),
    output: field('output_usd_per_mtok'),
    cacheWrite5m: field('cache_write_5m_usd_per_mtok'),
    cacheWrite1h: field('cache_write_1h_usd_per_mtok'),
    cacheRead: field('cache_read_usd_per_mtok'),
  };
}

function effectiveFrom(text: string | undefined, timeZone: string): Date {
  if (text === undefined) return new Date();
  const day = parseLocalDate(text, timeZone);
  if (day) return day;
  // An instant must say its offset: "2026-12-01T00:00:00+09:00" or "…Z".
  const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : null;
  if (!instant || Number.isNaN(instant.getTime())) {
    throw new AdminError(400, 'invalid_request_error', 'effective_from: must be YYYY-MM-DD or an ISO 8601 time with its offset, e.g. 2026-12-01T00:00:00Z');
  }
  return instant;
}

export async function pricingRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { priceRows, prices, timeZone } = deps.accounting;

  app.get(
    '/pricing',
    { schema: { summary: 'Model prices with their effective dates (history included)', querystring: PriceListQuery, response: { 200: PriceList } } },
    async (request) => {
      const q = request.query;
      const rows = await priceRows.list();
      const current = inEffectIds(rows, new Date());
      const model = q.model ? pricingModel(q.model).model : undefined;
      const items = rows
        .filter((r) => (!q.provider || r.provider === q.provider) && (!model || r.model === model) && (!q.current || current.has(r.id)))
        .map((r) => priceJson(r, current.has(r.id)));
      return { items };
    },
  );

  app.post(
    '/pricing',
    {
      schema: {
        summary: 'Add a price, in effect from effective_from (default now) until a later row; recorded costs never change',
        body: AddPriceBody,
        response: { 201: Price },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const region = body.region ?? null;
      if (body.provider === 'anthropic' && region !== null) throw new AdminError(400, 'invalid_request_error', 'region: only Bedrock prices have a region');
      const { model, globalProfile } = pricingModel(body.model);
      const price = {
        provider: body.provider,
        // A model named by its global profile id is the global profile's price.
        region: body.provider === 'bedrock' && globalProfile && region === null ? 'global' : region,
        model,
        rates: rates(body, ''),
        longContext: body.long_context ? { thresholdTokens: body.long_context.threshold_tokens, rates: rates(body.long_context, 'long_context.') } : null,
        effectiveFrom: effectiveFrom(body.effective_from, timeZone),
      };
      let row: ModelPrice;
      try {
        row = await deps.transact(auditContext(request), async (tx) => {
          const added = await createPriceRepository(tx.db).add(price);
          await tx.audit({ action: 'model_price.add', targetType: 'model_price', targetId: added.id, before: null, after: priceJson(added, false) });
          tx.changed({ topic: 'model_prices' });
          return added;
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AdminError(409, 'conflict_error', `effective_from: a ${price.provider} price for ${price.model}${price.region ? ` in ${price.region}` : ''} already starts at ${price.effectiveFrom.toISOString()}`);
        }
        throw err;
      }
      const current = inEffectIds(prices.current().rows, new Date());
      return reply.code(201).send(priceJson(row, current.has(row.id)));
    },
  );

  app.delete(
    '/pricing/:id',
    { schema: { summary: 'Cancel a price that has not taken effect yet (prices in effect are history)', params: PriceIdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params;
      const existing = await priceRows.get(id);
      if (!existing) throw notFound('price');
      await deps.transact(auditContext(request), async (tx) => {
        const removed = await createPriceRepository(tx.db).deleteScheduled(id, new Date());
        if (!removed) throw new AdminError(409, 'conflict_error', 'price: it has taken effect and is history; add a new price instead');
        await tx.audit({ action: 'model_price.cancel', targetType: 'model_price', targetId: id, before: priceJson(removed, false), after: null });
        tx.changed({ topic: 'model_prices' });
      });
      return reply.code(204).send(null);
    },
  );
}
