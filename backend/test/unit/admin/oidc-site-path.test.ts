import { describe, expect, it } from 'vitest';
import { sitePath } from '../../../src/admin/oidc.ts';

// Where company sign-in sends the browser afterwards: a path of this site, never another origin.
describe('sitePath', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/users/42?tab=keys', '/users/42?tab=keys'],
    ['/me', '/me'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['users', '/'],
    ['/users\r\nSet-Cookie: x=1', '/'],
  ])('%j → %j', (next, expected) => {
    expect(sitePath(next)).toBe(expected);
  });
});
