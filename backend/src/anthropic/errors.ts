/** Anthropic's error types (docs/upstream-apis.md §1.7), keyed by what the proxy means. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  request_id: string;
}

export function anthropicErrorBody(type: AnthropicErrorType, message: string, requestId: string): AnthropicErrorBody {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

/** The same error as one SSE event, for failures after a stream has begun (status already sent). */
export function anthropicErrorEvent(type: AnthropicErrorType, message: string, requestId: string): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(type, message, requestId))}\n\n`;
}

/** An error the proxy itself answers with, in Anthropic's shape. `code` is stable for logs and tests. */
export class ProxyError extends Error {
  override name = 'ProxyError';
  constructor(
    readonly code: string,
    readonly status: number,
    readonly anthropicType: AnthropicErrorType,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
