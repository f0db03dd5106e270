import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';

describe('admin configuration', () => {
  it('defaults: a five-minute rotation grace, and no cross-origin callers', () => {
    expect(loadConfig({})).toMatchObject({ keyRotationGraceMs: 300_000, corsOrigins: [] });
  });

  it('reads the grace in seconds and the origins as a comma-separated list', () => {
    expect(loadConfig({ KEY_ROTATION_GRACE: '1.5' }).keyRotationGraceMs).toBe(1_500);
    expect(loadConfig({ CORS_ORIGINS: 'https://admin.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://admin.example.com', 'http://localhost:5173']);
  });

  it.each([
    [{ KEY_ROTATION_GRACE: '0' }, /^KEY_ROTATION_GRACE: must be a number of seconds greater than 0/],
    [{ KEY_ROTATION_GRACE: 'five minutes' }, /^KEY_ROTATION_GRACE: /],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS: must be a comma-separated list of origins .*\(got "\*"\)$/],
    [{ CORS_ORIGINS: 'https://admin.example.com/dashboard' }, /^CORS_ORIGINS: .*without paths/],
    [{ CORS_ORIGINS: 'admin.example.com' }, /^CORS_ORIGINS: /],
    [{ CORS_ORIGINS: 'ftp://admin.example.com' }, /^CORS_ORIGINS: /],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
