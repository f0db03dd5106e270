import type { IncomingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1: connection-specific headers never cross a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

// Ours, not the client's: the proxy key is our credential, host/length are recomputed for the new
// hop, cookies belong to this site, and the forwarding headers describe the load balancer's hop.
// accept-encoding is dropped so the upstream answers uncompressed and the usage tap can read it.
const NOT_FORWARDED = new Set([
  'host',
  'content-length',
  'cookie',
  'x-proxy-key',
  'accept-encoding',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-amzn-trace-id',
  'x-real-ip',
]);

/**
 * Client headers to send to Anthropic: everything but hop-by-hop headers (and any the client's
 * Connection header names) and the ones above. Unknown headers, betas and versions pass as sent.
 */
export function planRequestHeaders(incoming: IncomingHttpHeaders, defaultApiKey?: string): Record<string, string | string[]> {
  const named = connectionNamed(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  if (defaultApiKey && out['x-api-key'] === undefined && out.authorization === undefined) out['x-api-key'] = defaultApiKey;
  return out;
}

function connectionNamed(connection: string | undefined): Set<string> {
  if (!connection) return new Set();
  return new Set(connection.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
}

const RESPONSE_HEADERS = new Set([
  'content-type',
  'content-encoding',
  'request-id',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'cache-control',
]);

/** Upstream response headers the client gets: the listed ones plus every anthropic-* (rate limits, organization). */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined) continue;
    if (RESPONSE_HEADERS.has(name) || name.startsWith('anthropic-')) out[name] = value;
  }
  return out;
}
