import { describe, expect, it } from 'vitest';
import { loginPathFor, safeNextPath } from '../src/lib/next-path.ts';
import { matchRoute } from '../src/lib/router.tsx';

describe('after login', () => {
  it('returns to a path on this site', () => {
    expect(safeNextPath('?next=%2Fusers%2F42')).toBe('/users/42');
    expect(loginPathFor('/users/42')).toBe('/login?next=%2Fusers%2F42');
    expect(loginPathFor('/')).toBe('/login');
  });
  it('never goes to another origin', () => {
    expect(safeNextPath('?next=https://evil.example')).toBe('/');
    expect(safeNextPath('?next=//evil.example')).toBe('/');
    expect(safeNextPath('?next=/\\evil.example')).toBe('/');
    expect(safeNextPath('')).toBe('/');
  });
});

describe('matchRoute', () => {
  it('matches fixed paths and one parameter', () => {
    expect(matchRoute('/', '/')).toEqual({});
    expect(matchRoute('/users', '/users/')).toEqual({});
    expect(matchRoute('/users/:id', '/users/3f1c')).toEqual({ id: '3f1c' });
    expect(matchRoute('/users/:id', '/users')).toBeNull();
    expect(matchRoute('/users/:id', '/pricing/3')).toBeNull();
  });
});
