import { queryString } from './api.ts';

// The request log's filters, kept in the page's address so a link reproduces the view: the query
// parameters are the admin API's own (GET /admin/requests), and its CSV twin takes the same ones.

export const REQUEST_FILTER_KEYS = [
  'user_id',
  'access_key_id',
  'provider',
  'model',
  'status_class',
  'outcome',
  'code',
  'fallback_unavailable',
  'fallback',
  'from',
  'to',
] as const;
export type RequestFilterKey = (typeof REQUEST_FILTER_KEYS)[number];
export type RequestFilters = Partial<Record<RequestFilterKey, string>>;

export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export const OUTCOMES = ['completed', 'upstream_error', 'rejected', 'aborted', 'failed'] as const;
export const FALLBACK_UNAVAILABLE = ['no_bedrock_key', 'no_mapping'] as const;

/** The filters in a query string ("?user_id=…&status_class=5xx"); unknown and empty parameters are dropped. */
export function filtersFromSearch(search: string): RequestFilters {
  const params = new URLSearchParams(search);
  const filters: RequestFilters = {};
  for (const key of REQUEST_FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return filters;
}

/** The query string of the filters, in a fixed order ("" when there are none). */
export function searchOf(filters: RequestFilters): string {
  const params = new URLSearchParams();
  for (const key of REQUEST_FILTER_KEYS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The request log page showing these filters (what a user's page links to). */
export function requestLogPath(filters: RequestFilters): string {
  return `/requests${searchOf(filters)}`;
}

/**
 * A CSV export's address with the same query as the table it downloads (a plain link: the
 * session cookie authenticates it). Empty values are dropped, as the JSON calls drop them.
 */
export function csvHref(path: string, query: Record<string, string | number | undefined | null>): string {
  return `/admin${path}${queryString(query)}`;
}
