import { describe, expect, it } from 'vitest';
import { ApiError, errorText, extractApiError } from '../src/lib/api-error.ts';

describe('extractApiError', () => {
  it('takes the admin API\'s own message and type', () => {
    const err = extractApiError(409, '{"error":{"type":"conflict_error","message":"name: a user named \\"alice\\" already exists"}}');
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.type).toBe('conflict_error');
    expect(err.message).toBe('name: a user named "alice" already exists');
  });
  it('reads the Anthropic shape too', () => {
    const err = extractApiError(404, '{"type":"error","error":{"type":"not_found_error","message":"Not found"},"request_id":"req_1"}');
    expect(err.message).toBe('Not found');
  });
  it('keeps retry-after for the login limit', () => {
    const err = extractApiError(429, '{"error":{"type":"rate_limit_error","message":"too many failed logins; try again in 42 s"}}', '42');
    expect(err.retryAfter).toBe(42);
    expect(err.message).toBe('too many failed logins; try again in 42 s');
  });
  it('never says "API error: 500": a status in words when the body says nothing', () => {
    const err = extractApiError(500, '');
    expect(err.message).toBe('The server failed (HTTP 500)');
    expect(err.message).not.toMatch(/API error/);
    expect(extractApiError(502, '<html><body>Bad Gateway</body></html>').message).toBe('The server could not be reached through the gateway (HTTP 502)');
    expect(extractApiError(418, '{}').message).toBe('The request failed (HTTP 418)');
  });
  it('uses a short plain-text body', () => {
    expect(extractApiError(503, 'upstream connect error').message).toBe('upstream connect error');
  });
});

describe('errorText', () => {
  it('explains a network failure', () => {
    expect(errorText(new TypeError('Failed to fetch'))).toMatch(/Could not reach the server/);
  });
  it('passes API messages through', () => {
    expect(errorText(new ApiError(400, 'invalid_request_error', 'name: is required'))).toBe('name: is required');
  });
});
