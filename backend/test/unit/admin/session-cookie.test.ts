import { describe, expect, it } from 'vitest';
import { clearedSessionCookie, readSessionCookie, SESSION_COOKIE, sessionCookie } from '../../../src/admin/session-cookie.ts';

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, scoped to /admin, and Secure only when asked', () => {
    expect(sessionCookie('t0k', { maxAgeSeconds: 43_199.7, secure: false })).toBe(`${SESSION_COOKIE}=t0k; Path=/admin; Max-Age=43199; HttpOnly; SameSite=Strict`);
    expect(sessionCookie('t0k', { maxAgeSeconds: 10, secure: true })).toMatch(/; Secure$/);
    expect(clearedSessionCookie({ secure: true })).toBe(`${SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict; Secure`);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['other=1', undefined],
    [`${SESSION_COOKIE}=abc.def.ghi`, 'abc.def.ghi'],
    [`a=1; ${SESSION_COOKIE}=abc ; b=2`, 'abc'],
    [`x${SESSION_COOKIE}=abc`, undefined],
    [`${SESSION_COOKIE}=`, undefined],
  ])('reads %j as %j', (header, token) => {
    expect(readSessionCookie(header)).toBe(token);
  });
});
