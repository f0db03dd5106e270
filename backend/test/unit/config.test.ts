import { describe, expect, it } from 'vitest';
import { loadConfig, parseDatabaseUrl } from '../../src/config.ts';

const prodSecrets = { ENVIRONMENT: 'prod', KEY_HASHER_SECRET: 'x'.repeat(64), ADMIN_CREDENTIALS: '{"username":"admin","password":"pw"}' };

describe('configuration', () => {
  it('has working defaults in dev', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, host: '0.0.0.0', environment: 'dev', logLevel: 'info', planApiUrl: 'https://api.anthropic.com', planFirstByteTimeoutMs: 60_000, databaseUrl: undefined });
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: must be an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ ENVIRONMENT: 'production!' }, /^ENVIRONMENT: must be one of dev, test, staging, prod/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres:\/\/ URL or the RDS secret JSON$/],
    [{ DATABASE_URL: '{"username":"u"' }, /^DATABASE_URL: looks like JSON but does not parse$/],
    [{ DATABASE_URL: '{"username":"u","password":"p"}' }, /^DATABASE_URL: secret JSON lacks host$/],
    [{ KEY_HASHER_SECRET: 'short' }, /^KEY_HASHER_SECRET: must be at least 32 characters$/],
    [{ ADMIN_CREDENTIALS: 'admin:pw' }, /^ADMIN_CREDENTIALS: must be JSON/],
    [{ ADMIN_CREDENTIALS: '{"username":"admin"}' }, /^ADMIN_CREDENTIALS: must be JSON with non-empty "username" and "password"/],
    [{ PLAN_API_URL: 'ftp://x' }, /^PLAN_API_URL: must be an http\(s\) URL/],
    [{ PLAN_API_URL: 'not a url' }, /^PLAN_API_URL: must be an http\(s\) URL/],
    [{ PLAN_FIRST_BYTE_TIMEOUT: '0' }, /^PLAN_FIRST_BYTE_TIMEOUT: must be a number of seconds greater than 0/],
    [{ PLAN_FIRST_BYTE_TIMEOUT: 'soon' }, /^PLAN_FIRST_BYTE_TIMEOUT: /],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('requires secrets outside dev', () => {
    expect(() => loadConfig({ ENVIRONMENT: 'prod' })).toThrow(/^KEY_HASHER_SECRET: required when ENVIRONMENT=prod/);
    expect(() => loadConfig({ ENVIRONMENT: 'prod', KEY_HASHER_SECRET: 'x'.repeat(64) })).toThrow(/^ADMIN_CREDENTIALS: required/);
    expect(loadConfig(prodSecrets).adminCredentials).toEqual({ username: 'admin', password: 'pw' });
  });

  it('accepts seconds with decimals and a trailing s', () => {
    expect(loadConfig({ PLAN_FIRST_BYTE_TIMEOUT: '0.5' }).planFirstByteTimeoutMs).toBe(500);
    expect(loadConfig({ PLAN_FIRST_BYTE_TIMEOUT: '90s' }).planFirstByteTimeoutMs).toBe(90_000);
  });

  it('keeps a path prefix in PLAN_API_URL', () => {
    expect(loadConfig({ PLAN_API_URL: 'http://127.0.0.1:9000/gateway/' }).planApiUrl).toBe('http://127.0.0.1:9000/gateway');
  });
});

describe('DATABASE_URL', () => {
  it('takes a postgres URL as is', () => {
    expect(parseDatabaseUrl('postgres://u:p@h:5432/db')).toBe('postgres://u:p@h:5432/db');
  });

  it('builds a URL from the RDS generated secret ECS injects, escaping the password', () => {
    const secret = JSON.stringify({ username: 'postgres', password: 'p@ss/w:rd', host: 'db.cluster.amazonaws.com', port: 5432, dbname: 'proxy', engine: 'postgres' });
    const url = new URL(parseDatabaseUrl(secret));
    expect(url.hostname).toBe('db.cluster.amazonaws.com');
    expect(decodeURIComponent(url.password)).toBe('p@ss/w:rd');
    expect(url.pathname).toBe('/proxy');
  });

  it('defaults the port and database name', () => {
    expect(parseDatabaseUrl('{"username":"u","password":"p","host":"h"}')).toBe('postgres://u:p@h:5432/postgres');
  });
});
