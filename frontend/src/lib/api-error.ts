/** An admin API call that did not succeed: the server's own words when it gave any. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** Seconds the server asked us to wait (retry-after), when it said. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const STATUS_WORDS: Record<number, string> = {
  400: 'the request was not accepted',
  401: 'you are not signed in',
  403: 'this is not allowed',
  404: 'not found',
  409: 'it conflicts with the current state',
  413: 'the request is too large',
  429: 'too many requests; wait a moment and try again',
  500: 'the server failed',
  502: 'the server could not be reached through the gateway',
  503: 'the server is not available right now',
  504: 'the server took too long to answer',
};

/**
 * The message to show for a failed response: `{"error":{"type","message"}}` (admin API and
 * Anthropic shape alike), else a plain short text body, else words for the status.
 */
export function extractApiError(status: number, body: string, retryAfterHeader?: string | null): ApiError {
  const retryAfter = retryAfterHeader && /^\d+$/.test(retryAfterHeader.trim()) ? Number(retryAfterHeader.trim()) : undefined;
  let type = status >= 500 ? 'api_error' : 'invalid_request_error';
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    const error = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
    if (typeof error === 'object' && error !== null) {
      const e = error as { type?: unknown; message?: unknown };
      if (typeof e.type === 'string') type = e.type;
      if (typeof e.message === 'string' && e.message.trim()) message = e.message.trim();
    } else if (typeof error === 'string' && error.trim()) {
      message = error.trim();
    }
  } catch {
    const text = body.trim();
    // A short plain-text answer says more than a status; an HTML error page does not.
    if (text && text.length <= 300 && !text.startsWith('<')) message = text;
  }
  message ??= `${capitalise(STATUS_WORDS[status] ?? 'the request failed')} (HTTP ${status})`;
  return new ApiError(status, type, message, retryAfter);
}

/** What to show for anything thrown by an API call (a network failure included). */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Could not reach the server. Check your connection and try again.';
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
