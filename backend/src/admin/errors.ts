/** Admin API error: `{"error":{"type","message"}}` with the status it names. */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AdminError(404, 'not_found_error', `${what} not found`);
export const unauthorized = (message = 'a valid admin token is required') => new AdminError(401, 'authentication_error', message);
