import { Type } from 'typebox';

/** The body of every admin error. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    type: Type.String(),
    message: Type.String({ description: 'for validation errors, starts with the field: "name: is required"' }),
  }),
});

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
