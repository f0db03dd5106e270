/**
 * Bedrock failures in Anthropic's terms (docs/upstream-apis.md §2.2, §3.3). One table maps each
 * Bedrock exception name to the status and `error.type` the client sees; classification is by
 * exception name, then HTTP status, then Node/undici error code — never by message text, except
 * that a context-window refusal is put in the wording Claude Code recovers from.
 */

import type { AnthropicErrorType } from '../anthropic/errors.ts';

export type { AnthropicErrorType };

/** A Bedrock failure as the client should see it. `code` is stable for logs and metrics. */
export interface BedrockFailure {
  status: number;
  type: AnthropicErrorType;
  message: string;
  code: string;
  /** The Bedrock exception name (`ThrottlingException`), when there was one. */
  exception: string | null;
}

interface ExceptionRow {
  status: number;
  type: AnthropicErrorType;
  code: string;
}

/** Bedrock exception → Anthropic error. Keys are PascalCase; stream members (`throttlingException`) are normalised. */
const EXCEPTIONS: Readonly<Record<string, ExceptionRow>> = {
  ValidationException: { status: 400, type: 'invalid_request_error', code: 'BEDROCK_VALIDATION' },
  ConflictException: { status: 400, type: 'invalid_request_error', code: 'BEDROCK_CONFLICT' },
  ServiceQuotaExceededException: { status: 429, type: 'rate_limit_error', code: 'BEDROCK_QUOTA_EXCEEDED' },
  AccessDeniedException: { status: 403, type: 'permission_error', code: 'BEDROCK_ACCESS_DENIED' },
  // The Bedrock API key itself is unknown, expired or malformed.
  UnrecognizedClientException: { status: 401, type: 'authentication_error', code: 'BEDROCK_KEY_REJECTED' },
  ExpiredTokenException: { status: 401, type: 'authentication_error', code: 'BEDROCK_KEY_REJECTED' },
  InvalidSignatureException: { status: 401, type: 'authentication_error', code: 'BEDROCK_KEY_REJECTED' },
  IncompleteSignatureException: { status: 401, type: 'authentication_error', code: 'BEDROCK_KEY_REJECTED' },
  MissingAuthenticationTokenException: { status: 401, type: 'authentication_error', code: 'BEDROCK_KEY_REJECTED' },
  ResourceNotFoundException: { status: 404, type: 'not_found_error', code: 'BEDROCK_NOT_FOUND' },
  ModelTimeoutException: { status: 504, type: 'timeout_error', code: 'BEDROCK_MODEL_TIMEOUT' },
  ModelErrorException: { status: 500, type: 'api_error', code: 'BEDROCK_MODEL_ERROR' },
  ModelStreamErrorException: { status: 500, type: 'api_error', code: 'BEDROCK_MODEL_STREAM_ERROR' },
  ThrottlingException: { status: 429, type: 'rate_limit_error', code: 'BEDROCK_THROTTLED' },
  ModelNotReadyException: { status: 429, type: 'rate_limit_error', code: 'BEDROCK_MODEL_NOT_READY' },
  InternalServerException: { status: 500, type: 'api_error', code: 'BEDROCK_INTERNAL' },
  ServiceUnavailableException: { status: 529, type: 'overloaded_error', code: 'BEDROCK_UNAVAILABLE' },
};

/** Bedrock HTTP status → Anthropic error, for exceptions the table does not name. */
function rowForStatus(status: number): ExceptionRow {
  switch (status) {
    case 400:
      return { status: 400, type: 'invalid_request_error', code: 'BEDROCK_HTTP_400' };
    case 401:
      return { status: 401, type: 'authentication_error', code: 'BEDROCK_HTTP_401' };
    case 403:
      return { status: 403, type: 'permission_error', code: 'BEDROCK_HTTP_403' };
    case 404:
      return { status: 404, type: 'not_found_error', code: 'BEDROCK_HTTP_404' };
    case 408:
      return { status: 504, type: 'timeout_error', code: 'BEDROCK_HTTP_408' };
    case 413:
      return { status: 413, type: 'request_too_large', code: 'BEDROCK_HTTP_413' };
    case 429:
      return { status: 429, type: 'rate_limit_error', code: 'BEDROCK_HTTP_429' };
    case 503:
      return { status: 529, type: 'overloaded_error', code: 'BEDROCK_HTTP_503' };
    case 504:
      return { status: 504, type: 'timeout_error', code: 'BEDROCK_HTTP_504' };
    case 529:
      return { status: 529, type: 'overloaded_error', code: 'BEDROCK_HTTP_529' };
    default:
      if (status >= 500) return { status: 500, type: 'api_error', code: `BEDROCK_HTTP_${status}` };
      if (status >= 400) return { status: 400, type: 'invalid_request_error', code: `BEDROCK_HTTP_${status}` };
      return { status: 500, type: 'api_error', code: 'BEDROCK_UNKNOWN' };
  }
}

/** Node and undici transport failures (no HTTP response from Bedrock). */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * Error raised by the translators themselves: a request Bedrock cannot express (400 naming the
 * field), an unknown model, or a Bedrock answer that cannot be put back into Anthropic's shape.
 */
export class BedrockTranslationError extends Error {
  override readonly name = 'BedrockTranslationError';
  readonly status: number;
  readonly anthropicType: AnthropicErrorType;
  /** The field at fault, as a path into the request (`messages[2].content[0].source.type`). */
  readonly field: string;
  /** Translation messages name fields and values the client sent; safe to show. */
  readonly expose = true;

  constructor(
    readonly code: 'BEDROCK_UNSUPPORTED' | 'BEDROCK_INVALID_REQUEST' | 'BEDROCK_MODEL_UNKNOWN' | 'BEDROCK_BAD_RESPONSE',
    field: string,
    message: string,
  ) {
    super(message);
    this.field = field;
    if (code === 'BEDROCK_BAD_RESPONSE') {
      this.status = 502;
      this.anthropicType = 'api_error';
    } else {
      this.status = 400;
      this.anthropicType = 'invalid_request_error';
    }
  }
}

/**
 * An error code as the AWS SDK cleans it (`x-amzn-errortype`, or a body's `code` / `__type`):
 * `ThrottlingException:http://internal.amazon.com/coral/…`, `Name,…` and `ns#Name` → the name.
 */
export function exceptionNameFromHeader(header: string | null | undefined): string | null {
  if (!header) return null;
  let name = header.split(',')[0]!.split(':')[0]!;
  if (name.includes('#')) name = name.split('#')[1]!;
  name = name.trim();
  return name ? name : null;
}

function normaliseExceptionName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function field(err: unknown, key: string): unknown {
  return err !== null && typeof err === 'object' ? (err as Record<string, unknown>)[key] : undefined;
}

/**
 * Any Bedrock failure → what the client sees. Accepts an AWS SDK exception (`name`,
 * `$metadata.httpStatusCode`), an in-stream exception event (`{ name: 'throttlingException',
 * message }`), a raw HTTP failure (`{ status, name?: x-amzn-errortype name, message }`), a Node
 * or undici transport error (`code`), or a `BedrockTranslationError`.
 */
export function mapBedrockError(err: unknown): BedrockFailure {
  return inRecoverableWording(classify(err));
}

function classify(err: unknown): BedrockFailure {
  const message = String(field(err, 'message') ?? '') || 'Amazon Bedrock request failed';
  if (err instanceof BedrockTranslationError) {
    return { status: err.status, type: err.anthropicType, message: err.message, code: err.code, exception: null };
  }
  const rawName = field(err, 'name');
  const name = typeof rawName === 'string' && rawName ? normaliseExceptionName(rawName) : null;
  const row = name ? EXCEPTIONS[name] : undefined;
  if (row && name) return { ...row, message, exception: name };

  const metadata = field(err, '$metadata');
  const status = field(metadata, 'httpStatusCode') ?? field(err, 'status') ?? field(err, 'statusCode');
  if (typeof status === 'number' && status >= 400) {
    return { ...rowForStatus(status), message, exception: name && name !== 'Error' ? name : null };
  }

  // Transport failures get a message of our own: Node's names Bedrock's address, not the problem.
  // The AWS SDK names ECONNRESET and EPIPE `TimeoutError`, so the code is looked at first.
  const code = field(err, 'code');
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return { status: 502, type: 'api_error', code: 'BEDROCK_UNREACHABLE', message: `Could not reach Amazon Bedrock (${code})`, exception: null };
  }
  if (name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    const detail = typeof code === 'string' ? ` (${code})` : '';
    return { status: 504, type: 'timeout_error', code: 'BEDROCK_TIMEOUT', message: `Amazon Bedrock did not answer in time${detail}`, exception: null };
  }
  return { status: 500, type: 'api_error', code: 'BEDROCK_UNKNOWN', message, exception: name && name !== 'Error' ? name : null };
}

/** Wordings Claude Code's context-window recovery (drop old images, then compact) recognises, on a 400. */
const RECOGNISED_CONTEXT_WORDING = /prompt is too long|input is too long for requested model|^input is too long\.?$/i;
/** Bedrock's other ways of saying the prompt does not fit the model's context window. */
const CONTEXT_WINDOW_WORDING = /input (is )?too long|too many input tokens|context (window|length) (exceeded|limit)|exceeds? the (model'?s? )?(maximum )?context/i;

/**
 * The one place message text is read: a prompt that does not fit must reach Claude Code as a 400
 * in a wording its recovery keys on, or the session stops instead of compacting. Recognised
 * wordings pass as they are (only a 413 becomes the 400 the client expects); other context-window
 * wordings get Anthropic's prefix. `max_tokens` overflows keep their own wording, which the client
 * handles differently.
 */
function inRecoverableWording(failure: BedrockFailure): BedrockFailure {
  if (failure.status !== 400 && failure.status !== 413) return failure;
  const message = failure.message.trim();
  const recognised = RECOGNISED_CONTEXT_WORDING.test(message);
  if (!recognised && (!CONTEXT_WINDOW_WORDING.test(message) || /max_tokens/.test(message))) return failure;
  return {
    ...failure,
    status: 400,
    type: 'invalid_request_error',
    code: 'BEDROCK_PROMPT_TOO_LONG',
    message: recognised ? failure.message : `prompt is too long: ${message}`,
  };
}

/** Anthropic `error.type` → the status Anthropic sends it with (docs/upstream-apis.md §1.7). */
const STATUS_OF_TYPE: Readonly<Record<AnthropicErrorType, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * An Anthropic-shaped `error` (the Messages endpoint's in-stream `event: error`) as a failure.
 * An unknown type counts as `api_error`.
 */
export function failureFromAnthropicError(type: unknown, message: unknown): BedrockFailure {
  const known = typeof type === 'string' && type in STATUS_OF_TYPE ? (type as AnthropicErrorType) : 'api_error';
  return {
    status: STATUS_OF_TYPE[known],
    type: known,
    message: typeof message === 'string' && message !== '' ? message : 'Amazon Bedrock reported an error',
    code: 'BEDROCK_STREAM_ERROR',
    exception: null,
  };
}

/** The Anthropic `error` body / SSE event for a failure (`{type:"error", error:{type, message}}`). */
export function toAnthropicError(failure: BedrockFailure, requestId?: string) {
  return {
    type: 'error' as const,
    error: { type: failure.type, message: failure.message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}
