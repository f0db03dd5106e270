import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { formatZoned } from '../accounting/calendar.ts';
import type { RequestLogFilters, RequestLogPosition, RequestLogRow } from '../db/request-log-repository.ts';
import { sendCsv, type CsvRecord } from './csv.ts';
import { AdminError } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { CsvFile, RequestLogCsvQuery, RequestLogPage, RequestLogQuery, RequestRow } from './schemas.ts';

// The request log (README, "Requests and errors"): every proxied request, newest first, as JSON
// pages or one CSV download with the same filters and fields.

/** Rows a CSV download holds at most, and how many it reads from the database at a time. */
export const CSV_MAX_ROWS = 100_000;
const CSV_CHUNK = 1_000;

export function requestRowJson(row: RequestLogRow, timeZone: string): Static<typeof RequestRow> {
  return {
    id: row.id,
    request_id: row.requestId,
    occurred_at: formatZoned(row.occurredAt, timeZone),
    user_id: row.userId,
    user_name: row.userName,
    access_key_id: row.accessKeyId,
    key_prefix: row.keyPrefix,
    endpoint: row.endpoint,
    provider: row.provider,
    is_fallback: row.isFallback,
    fallback_reason: row.fallbackReason,
    fallback_unavailable: row.fallbackUnavailable,
    requested_model: row.requestedModel,
    served_model: row.servedModel,
    stream: row.stream,
    status_code: row.statusCode,
    outcome: row.outcome,
    error_type: row.errorType,
    error_code: row.errorCode,
    stop_reason: row.stopReason,
    latency_ms: row.latencyMs,
    ttfb_ms: row.ttfbMs,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    cost_usd: row.costUsd,
  };
}

/** The CSV header: the JSON row's fields, in the schema's order. */
export const REQUEST_COLUMNS = Object.keys(RequestRow.properties);

// The cursor is the last row's position, base64url JSON: opaque to clients, checked when it comes back.
const encodeCursor = (p: RequestLogPosition): string => Buffer.from(JSON.stringify([p.occurredAt, p.id])).toString('base64url');

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z$/;

function decodeCursor(cursor: string): RequestLogPosition {
  const bad = () => new AdminError(400, 'invalid_request_error', 'cursor: is not a next_cursor from this API; start again without it');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== 2) throw bad();
  const [occurredAt, id] = value as unknown[];
  if (typeof occurredAt !== 'string' || !INSTANT.test(occurredAt) || Number.isNaN(Date.parse(occurredAt))) throw bad();
  if (typeof id !== 'string' || !/^[1-9]\d{0,17}$/.test(id)) throw bad();
  return { occurredAt, id };
}

type FilterQuery = Static<typeof RequestLogCsvQuery>;

function filtersOf(q: FilterQuery): RequestLogFilters {
  const instant = (field: 'from' | 'to'): Date | undefined => {
    const text = q[field];
    if (text === undefined) return undefined;
    const t = new Date(text);
    if (Number.isNaN(t.getTime())) throw new AdminError(400, 'invalid_request_error', `${field}: must be an ISO 8601 instant with offset, e.g. 2026-11-01T00:00:00+09:00`);
    return t;
  };
  const from = instant('from');
  const to = instant('to');
  if (from && to && to <= from) throw new AdminError(400, 'invalid_request_error', 'to: must be after from');
  return {
    userId: q.user_id,
    accessKeyId: q.access_key_id,
    provider: q.provider,
    model: q.model,
    statusClass: q.status_class,
    outcome: q.outcome,
    code: q.code,
    fallbackUnavailable: q.fallback_unavailable,
    fallback: q.fallback,
    from,
    to,
  };
}

export async function requestRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { requestLog, timeZone } = deps.accounting;

  app.get(
    '/requests',
    { schema: { summary: 'The request log: every proxied request, newest first, a page at a time', querystring: RequestLogQuery, response: { 200: RequestLogPage } } },
    async (request) => {
      const q = request.query;
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      // One row more than the page, to know whether there is a next one.
      const rows = await requestLog.page({ filters: filtersOf(q), after, limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items.at(-1);
      return {
        items: items.map((row) => requestRowJson(row, timeZone)),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last.position) : null,
        timezone: timeZone,
      };
    },
  );

  app.get(
    '/requests.csv',
    {
      schema: {
        summary: `The request log as CSV: the same filters and fields, newest first, at most ${CSV_MAX_ROWS} rows`,
        querystring: RequestLogCsvQuery,
        response: { 200: CsvFile },
      },
    },
    async (request, reply) => {
      const filters = filtersOf(request.query);
      // The first chunk before the answer starts, so a database failure is still a JSON 500.
      const first = await requestLog.page({ filters, limit: Math.min(CSV_CHUNK, CSV_MAX_ROWS) });
      async function* rows(): AsyncGenerator<CsvRecord> {
        let chunk = first;
        let sent = 0;
        for (;;) {
          for (const row of chunk) yield requestRowJson(row, timeZone);
          sent += chunk.length;
          const last = chunk.at(-1);
          if (!last || chunk.length < CSV_CHUNK || sent >= CSV_MAX_ROWS) return;
          chunk = await requestLog.page({ filters, after: last.position, limit: Math.min(CSV_CHUNK, CSV_MAX_ROWS - sent) });
        }
      }
      return sendCsv(reply, { filename: `requests-${formatZoned(new Date(), timeZone).slice(0, 10)}.csv`, columns: REQUEST_COLUMNS, rows: rows() });
    },
  );
}
