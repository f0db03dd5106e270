import { ProxyError, type AnthropicErrorType } from '../anthropic/errors.ts';
import { noMappingMessage } from '../bedrock/models.ts';

/**
 * Every error the proxy answers by itself, in one table: the stable code (logs, metrics, usage
 * rows), the HTTP status, Anthropic's error type (docs/upstream-apis.md §1.7), the message, which
 * takes the request's details where it names them, and the headers that tell the client when (or
 * whether) to retry. Bedrock's own failures keep the code and wording bedrock/errors.ts mapped.
 */

// The proxy has done all it may: more attempts would only be refused again.
const NO_RETRY = () => ({ 'x-should-retry': 'false' });

const CATALOG = {
  PROXY_BODY_TOO_LARGE: { status: 413, type: 'request_too_large', message: (mb: number) => `Request body exceeds the ${mb} MB limit` },
  PROXY_BAD_REQUEST: { status: 400, type: 'invalid_request_error', message: () => 'The request could not be read' },
  PROXY_BAD_JSON: { status: 400, type: 'invalid_request_error', message: (why: string) => why },
  PROXY_JSON_TOO_DEEP: {
    status: 400,
    type: 'invalid_request_error',
    message: (max: number) => `Request body has JSON nesting deeper than ${max} levels`,
  },
  PROXY_MODEL_MISSING: { status: 400, type: 'invalid_request_error', message: () => 'model: Field required (a non-empty string)' },
  PROXY_MODEL_INVALID: {
    status: 400,
    type: 'invalid_request_error',
    message: (max: number) => `model: must be a model name of at most ${max} characters, without control characters`,
  },
  PROXY_BAD_LIMIT: { status: 400, type: 'invalid_request_error', message: () => 'limit: must be an integer from 1 to 1000' },
  // A final answer: without x-should-retry Claude Code retries a 401 for minutes before it says so.
  PROXY_KEY_UNKNOWN: { status: 401, type: 'authentication_error', message: () => 'Invalid or inactive access key', headers: NO_RETRY },
  PROXY_NO_BEDROCK_KEY: {
    status: 403,
    type: 'permission_error',
    message: () => 'This access key routes to Amazon Bedrock (bedrock_only) but has no Bedrock API key registered; ask an admin to register one',
    headers: NO_RETRY,
  },
  // bedrock_only and a model nothing maps: the same answer every time until an admin adds a mapping.
  BEDROCK_MODEL_UNKNOWN: { status: 400, type: 'invalid_request_error', message: (model: string) => noMappingMessage(model), headers: NO_RETRY },
  PROXY_COUNT_TOKENS_UNAVAILABLE: { status: 404, type: 'not_found_error', message: () => 'count_tokens is not available for bedrock_only routing' },
  PROXY_MODEL_NOT_FOUND: { status: 404, type: 'not_found_error', message: (id: string) => `model: ${id.slice(0, 200)}` },
  PROXY_INTERNAL: { status: 500, type: 'api_error', message: () => 'Internal proxy error' },
  PROXY_KEY_LOOKUP_FAILED: { status: 503, type: 'api_error', message: () => 'The proxy cannot check access keys right now' },
  PROXY_OVERLOADED: {
    status: 529,
    type: 'overloaded_error',
    message: (max: number) => `The proxy is at its limit of ${max} concurrent upstream requests (MAX_UPSTREAM_REQUESTS); retry shortly`,
  },
  PROXY_BODY_BUDGET: {
    status: 529,
    type: 'overloaded_error',
    message: (mb: number) => `The proxy is holding ${mb} MB of request bodies already; retry shortly`,
    headers: () => ({ 'retry-after': '2' }),
  },
  PROXY_KEY_UPLOADS: {
    status: 429,
    type: 'rate_limit_error',
    message: (max: number) => `This access key is sending ${max} request bodies at once already; retry when one is done`,
    headers: () => ({ 'retry-after': '1' }),
  },
  PROXY_BODY_TOO_SLOW: {
    status: 408,
    type: 'invalid_request_error',
    message: (kbPerSecond: number) => `The request body arrived slower than ${kbPerSecond} KB/s; the connection was closed`,
  },
  PROXY_ADDRESS_LIMIT: {
    status: 429,
    type: 'rate_limit_error',
    message: (retryAfterSeconds: number) => `Too many requests with unknown access keys from this address; retry in ${retryAfterSeconds} s`,
    headers: (retryAfterSeconds: number) => ({ 'retry-after': String(retryAfterSeconds), 'x-should-retry': 'false' }),
  },
  PROXY_SHUTTING_DOWN: { status: 529, type: 'overloaded_error', message: () => 'The proxy restarted before this response finished; retry the request' },
  PROXY_USER_LIMIT: {
    status: 429,
    type: 'rate_limit_error',
    message: (what: string, retryAfterSeconds: number) => `This user may make at most ${what} through the proxy; retry in ${retryAfterSeconds} s`,
    headers: (_what: string, retryAfterSeconds: number) => ({ 'retry-after': String(retryAfterSeconds) }),
  },
  PLAN_FIRST_BYTE_TIMEOUT: {
    status: 504,
    type: 'timeout_error',
    message: (seconds: number) => `Anthropic sent no response within ${seconds} s (PLAN_FIRST_BYTE_TIMEOUT)`,
  },
  /** `detail` follows the sentence: `: connection timed out`, ` (ECONNREFUSED)`, or nothing. */
  PLAN_UNREACHABLE: { status: 502, type: 'api_error', message: (detail: string) => `Could not reach Anthropic${detail}` },
  BUDGET_EXCEEDED: { status: 429, type: 'rate_limit_error', message: (why: string) => why, headers: NO_RETRY },
  BUDGET_MODEL_UNPRICED: {
    status: 403,
    type: 'permission_error',
    message: (model: string) => `Bedrock model ${model} has no price, so this user's monthly budget cannot be enforced for it; ask an admin to add its price`,
    headers: NO_RETRY,
  },
  BUDGET_UNAVAILABLE: {
    status: 503,
    type: 'api_error',
    message: () => 'The proxy cannot check your monthly budget right now (its database is not answering), so Bedrock requests are refused until it can',
  },
} satisfies Record<
  string,
  { status: number; type: AnthropicErrorType; message: (...args: never[]) => string; headers?: (...args: never[]) => Record<string, string> }
>;

export type ProxyErrorCode = keyof typeof CATALOG;

/** The catalog's error for `code`, its message filled with `args`. */
export function proxyError<C extends ProxyErrorCode>(code: C, ...args: Parameters<(typeof CATALOG)[C]['message']>): ProxyError {
  // Each entry's functions take that code's arguments: the signature above checks them per code.
  const entry = CATALOG[code] as unknown as {
    status: number;
    type: AnthropicErrorType;
    message: (...a: typeof args) => string;
    headers?: (...a: typeof args) => Record<string, string>;
  };
  return new ProxyError(code, entry.status, entry.type, entry.message(...args), entry.headers?.(...args) ?? {});
}

/** A request error Fastify raised before the route ran (a body over `maxBodyBytes`, an unreadable one). */
export function requestReadError(err: { code?: string; statusCode?: number }, maxBodyBytes?: number): ProxyError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && maxBodyBytes) return proxyError('PROXY_BODY_TOO_LARGE', maxBodyBytes / 1024 / 1024);
  if (err.statusCode && err.statusCode < 500) {
    const error = proxyError('PROXY_BAD_REQUEST');
    return new ProxyError(error.code, err.statusCode, error.anthropicType, error.message);
  }
  return proxyError('PROXY_INTERNAL');
}
