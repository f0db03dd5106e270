import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, isSet, loadConfig, parseDatabaseUrl, settleTimeZone } from '../../src/config.ts';

const prodSecrets = { ENVIRONMENT: 'prod', KEY_HASHER_SECRET: 'kF3q9vLx2RmT8wYp4NcZ7hJd1sGbQeUa6', ADMIN_CREDENTIALS: '{"username":"admin","password":"a-long-admin-passphrase"}', KMS_KEY_ID: 'alias/claude-code-proxy' };

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
    expect(loadConfig(prodSecrets).adminCredentials).toEqual({ username: 'admin', password: 'a-long-admin-passphrase' });
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

describe('database TLS and the admin login', () => {
  const ca = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-config-')), 'ca.pem');
  fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const notPem = path.join(path.dirname(ca), 'ca.der');
  fs.writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  const app = 'postgres://app:pw@db.example.com:5432/proxy';

  it.each([
    // [environment, DATABASE_SSL_MODE, the URL's sslmode, effective mode]
    ['dev', undefined, undefined, 'disable'],
    ['dev', undefined, 'require', 'require'],
    ['dev', undefined, 'verify-full', 'verify-full'],
    ['dev', 'require', undefined, 'require'],
    ['dev', 'disable', 'require', 'require'],
    ['dev', 'verify-full', 'require', 'verify-full'],
    ['dev', 'verify-full', 'disable', 'verify-full'],
    ['staging', undefined, undefined, 'disable'],
    ['prod', undefined, undefined, 'verify-full'],
    ['prod', undefined, 'disable', 'verify-full'],
    ['prod', undefined, 'require', 'verify-full'],
  ] as const)('%s with DATABASE_SSL_MODE=%s and sslmode=%s connects with %s', (environment, mode, urlMode, expected) => {
    const env = {
      ...(environment === 'dev' ? {} : { ...prodSecrets, ENVIRONMENT: environment, DATABASE_CA_FILE: ca }),
      DATABASE_URL: urlMode ? `${app}?sslmode=${urlMode}` : app,
      ...(mode ? { DATABASE_SSL_MODE: mode } : {}),
    };
    expect(loadConfig(env).databaseSslMode).toBe(expected);
  });

  it('takes the strictest sslmode of both URLs', () => {
    expect(loadConfig({ DATABASE_URL: app, DATABASE_ADMIN_URL: 'postgres://master:pw@db.example.com/proxy?sslmode=verify-full' }).databaseSslMode).toBe('verify-full');
  });

  it.each([
    [{ DATABASE_SSL_MODE: 'prefer' }, /^DATABASE_SSL_MODE: must be one of disable, require, verify-full \(got "prefer"\)$/],
    [{ DATABASE_URL: `${app}?sslmode=prefer` }, /^DATABASE_URL: sslmode=prefer is not supported: use disable, require or verify-full$/],
    [{ DATABASE_URL: `${app}?sslrootcert=/ca.pem` }, /^DATABASE_URL: the URL parameter sslrootcert is not supported: set DATABASE_SSL_MODE and DATABASE_CA_FILE instead$/],
    [{ DATABASE_ADMIN_URL: `${app}?sslmode=allow`, DATABASE_URL: app }, /^DATABASE_ADMIN_URL: sslmode=allow is not supported/],
    [{ DATABASE_ADMIN_URL: app }, /^DATABASE_ADMIN_URL: needs DATABASE_URL, the login the server serves with$/],
    [{ DATABASE_CA_FILE: '/nonexistent/ca.pem' }, /^DATABASE_CA_FILE: cannot read \/nonexistent\/ca\.pem \(ENOENT\)$/],
    [{ DATABASE_CA_FILE: notPem }, /^DATABASE_CA_FILE: .*ca\.der holds no PEM certificate$/],
    [{ ...prodSecrets, DATABASE_URL: app, DATABASE_CA_FILE: ca, DATABASE_SSL_MODE: 'disable' }, /^DATABASE_SSL_MODE: must be verify-full when ENVIRONMENT=prod \(got disable\)$/],
    [{ ...prodSecrets, DATABASE_URL: app, DATABASE_CA_FILE: ca, DATABASE_SSL_MODE: 'require' }, /^DATABASE_SSL_MODE: must be verify-full when ENVIRONMENT=prod \(got require\)$/],
    [{ ...prodSecrets, DATABASE_URL: app }, /^DATABASE_CA_FILE: required when ENVIRONMENT=prod/],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('asks nothing of TLS in prod on the embedded database', () => {
    expect(loadConfig(prodSecrets)).toMatchObject({ databaseUrl: undefined, databaseSslMode: 'verify-full', databaseCaFile: undefined });
  });

  it('takes the admin login in the secret JSON form too', () => {
    const config = loadConfig({ DATABASE_URL: app, DATABASE_ADMIN_URL: JSON.stringify({ username: 'master', password: 'p@ss', host: 'db.example.com', dbname: 'proxy' }) });
    expect(config.databaseAdminUrl).toBe('postgres://master:p%40ss@db.example.com:5432/proxy');
    expect(config.databaseCaFile).toBeUndefined();
  });
});

describe('Bedrock, envelope encryption and circuit breaker settings', () => {
  const hexKey = 'ab'.repeat(32);
  const base64Key = Buffer.alloc(32, 9).toString('base64');

  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      kmsKeyId: undefined,
      kmsEndpoint: undefined,
      localEncryptionKey: undefined,
      bedrockRegion: 'us-east-1',
      bedrockApi: 'invoke',
      bedrockEndpoint: undefined,
      bedrockAuth: 'bearer',
      circuitFailureThreshold: 3,
      circuitResetTimeoutMs: 1_800_000,
    });
  });

  it('reads every value', () => {
    const config = loadConfig({
      KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01',
      KMS_ENDPOINT: 'http://127.0.0.1:4566/',
      LOCAL_ENCRYPTION_KEY: hexKey,
      BEDROCK_REGION: 'us-west-2',
      BEDROCK_API: 'Converse',
      BEDROCK_ENDPOINT: 'https://bedrock-runtime.vpce.example.com/',
      BEDROCK_AUTH: 'sigv4',
      CIRCUIT_FAILURE_THRESHOLD: '5',
      CIRCUIT_RESET_TIMEOUT: '90',
    });
    expect(config).toMatchObject({
      kmsEndpoint: 'http://127.0.0.1:4566',
      bedrockRegion: 'us-west-2',
      bedrockApi: 'converse',
      bedrockEndpoint: 'https://bedrock-runtime.vpce.example.com',
      bedrockAuth: 'sigv4',
      circuitFailureThreshold: 5,
      circuitResetTimeoutMs: 90_000,
    });
    expect(config.localEncryptionKey).toEqual(Buffer.from(hexKey, 'hex'));
    expect(loadConfig({ LOCAL_ENCRYPTION_KEY: base64Key }).localEncryptionKey).toEqual(Buffer.alloc(32, 9));
    expect(loadConfig({ LOCAL_ENCRYPTION_KEY: Buffer.alloc(32, 0xfb).toString('base64url') }).localEncryptionKey).toEqual(Buffer.alloc(32, 0xfb));
    for (const id of ['alias/claude-code-proxy', '3f9d1c7e-0b1a-4c55-9d0e-6a2b8c4d1e01', 'mrk-1234abcd12ab34cd56ef1234567890ab', 'arn:aws:kms:eu-west-1:123456789012:alias/proxy']) {
      expect(loadConfig({ KMS_KEY_ID: id }).kmsKeyId).toBe(id);
    }
  });

  it.each([
    [{ KMS_KEY_ID: 'my key' }, /^KMS_KEY_ID: must be a KMS key id, key ARN, alias\/<name> or alias ARN \(got "my key"\)$/],
    [{ KMS_ENDPOINT: 'kms.local' }, /^KMS_ENDPOINT: must be an http\(s\) URL/],
    [{ LOCAL_ENCRYPTION_KEY: 'too-short' }, /^LOCAL_ENCRYPTION_KEY: must be 32 bytes as base64 \(44 characters, e\.g\. `openssl rand -base64 32`\) or as 64 hex digits$/],
    [{ LOCAL_ENCRYPTION_KEY: 'ab'.repeat(16) }, /^LOCAL_ENCRYPTION_KEY: must be 32 bytes/],
    [{ LOCAL_ENCRYPTION_KEY: Buffer.alloc(24).toString('base64') }, /^LOCAL_ENCRYPTION_KEY: must be 32 bytes/],
    [{ BEDROCK_REGION: 'Seoul' }, /^BEDROCK_REGION: must be an AWS region like ap-northeast-2 \(got "Seoul"\)$/],
    [{ BEDROCK_REGION: 'us-east' }, /^BEDROCK_REGION: must be an AWS region/],
    [{ BEDROCK_API: 'chat' }, /^BEDROCK_API: must be one of invoke, converse, messages \(got "chat"\)$/],
    [{ BEDROCK_ENDPOINT: 'bedrock.local:443' }, /^BEDROCK_ENDPOINT: must be an http\(s\) URL/],
    [{ BEDROCK_AUTH: 'iam' }, /^BEDROCK_AUTH: must be one of bearer, sigv4 \(got "iam"\)$/],
    [{ CIRCUIT_FAILURE_THRESHOLD: '0' }, /^CIRCUIT_FAILURE_THRESHOLD: must be an integer from 1 to 1000 \(got "0"\)$/],
    [{ CIRCUIT_FAILURE_THRESHOLD: '2.5' }, /^CIRCUIT_FAILURE_THRESHOLD: must be an integer/],
    [{ CIRCUIT_RESET_TIMEOUT: 'never' }, /^CIRCUIT_RESET_TIMEOUT: must be a number of seconds greater than 0/],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a bad LOCAL_ENCRYPTION_KEY', () => {
    const almost = `${'c'.repeat(40)}secret`;
    expect(() => loadConfig({ LOCAL_ENCRYPTION_KEY: almost })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(almost) }));
  });

  it('outside dev needs LOCAL_ENCRYPTION_KEY unless KMS_KEY_ID is set', () => {
    const { KMS_KEY_ID: _kms, ...withoutKms } = prodSecrets;
    expect(() => loadConfig(withoutKms)).toThrow(/^LOCAL_ENCRYPTION_KEY: required when ENVIRONMENT=prod unless KMS_KEY_ID is set/);
    const randomKey = '3f9a0c7e51b2d84617e0a9c3b5f2d8e41a6c0b9d7e3f5a2c8d1b4e6f0a3c5d7e';
    expect(loadConfig({ ...withoutKms, LOCAL_ENCRYPTION_KEY: randomKey }).localEncryptionKey).toHaveLength(32);
    expect(loadConfig(prodSecrets).kmsKeyId).toBe('alias/claude-code-proxy');
  });
});

describe('the time zone of a database (settleTimeZone)', () => {
  const unset = { zone: 'UTC', set: false };
  const berlin = { zone: 'Europe/Berlin', set: true };
  const none = (hasZonedData: boolean, latestDayStart: Date | null = null) => ({ timeZone: null, hasZonedData, latestDayStart });
  const recorded = (timeZone: string, hasZonedData: boolean) => ({ timeZone, hasZonedData, latestDayStart: null });

  it('records TIMEZONE (default UTC) on a new database', () => {
    expect(settleTimeZone(unset, none(false))).toEqual({ zone: 'UTC', record: true });
    expect(settleTimeZone(berlin, none(false))).toEqual({ zone: 'Europe/Berlin', record: true });
  });

  it('gives a database from before the record, with rollups, the old default unless TIMEZONE says otherwise', () => {
    const seoulMidnight = new Date('2026-11-24T15:00:00Z'); // 25 November, 00:00 in Seoul
    expect(settleTimeZone(unset, none(true, seoulMidnight))).toEqual({ zone: 'Asia/Seoul', record: true });
    expect(settleTimeZone(unset, none(true))).toEqual({ zone: 'Asia/Seoul', record: true }); // budget months only
    const berlinMidnight = new Date('2026-11-24T23:00:00Z'); // 25 November, 00:00 in Berlin (CET)
    expect(settleTimeZone(berlin, none(true, berlinMidnight))).toEqual({ zone: 'Europe/Berlin', record: true });
  });

  it('refuses to adopt a zone whose midnight is not where the rollups put the start of a day', () => {
    const seoulMidnight = new Date('2026-11-24T15:00:00Z');
    expect(() => settleTimeZone(berlin, none(true, seoulMidnight))).toThrow(
      'TIMEZONE: the usage rollups in this database were not cut in Europe/Berlin (their days start at 15:00 UTC); set TIMEZONE to the zone they were written in',
    );
    expect(() => settleTimeZone(unset, none(true, new Date('2026-11-25T00:00:00Z')))).toThrow(/not cut in Asia\/Seoul \(their days start at 00:00 UTC\)/);
  });

  it('keeps the recorded zone when TIMEZONE is unset or the same', () => {
    expect(settleTimeZone(unset, recorded('Asia/Seoul', true))).toEqual({ zone: 'Asia/Seoul', record: false });
    expect(settleTimeZone(unset, recorded('Asia/Seoul', false))).toEqual({ zone: 'Asia/Seoul', record: false });
    expect(settleTimeZone(berlin, recorded('Europe/Berlin', true))).toEqual({ zone: 'Europe/Berlin', record: false });
  });

  it('moves to a new TIMEZONE while nothing is cut in the old one', () => {
    expect(settleTimeZone(berlin, recorded('UTC', false))).toEqual({ zone: 'Europe/Berlin', record: true });
  });

  it('refuses a different TIMEZONE once rollups exist, in one line saying why and what to do', () => {
    const refuse = () => settleTimeZone(berlin, recorded('Asia/Seoul', true));
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(
      "TIMEZONE: this database's usage rollups and budget months are in Asia/Seoul; Europe/Berlin would mix day and month buckets of two zones. Unset TIMEZONE or set it to Asia/Seoul",
    );
  });

  it('counts an empty variable as unset, as loadConfig does', () => {
    expect(isSet('TIMEZONE', { TIMEZONE: '' })).toBe(false);
    expect(isSet('TIMEZONE', {})).toBe(false);
    expect(isSet('TIMEZONE', { TIMEZONE: 'UTC' })).toBe(true);
    expect(loadConfig({ TIMEZONE: '' }).timezone).toBe('UTC');
  });
});

describe('company sign-in settings', () => {
  it('requires a verified email by default; OIDC_REQUIRE_VERIFIED_EMAIL=false turns that off', () => {
    expect(loadConfig({}).oidcRequireVerifiedEmail).toBe(true);
    expect(loadConfig({ OIDC_REQUIRE_VERIFIED_EMAIL: 'false' }).oidcRequireVerifiedEmail).toBe(false);
    expect(loadConfig({ OIDC_REQUIRE_VERIFIED_EMAIL: 'TRUE' }).oidcRequireVerifiedEmail).toBe(true);
    expect(() => loadConfig({ OIDC_REQUIRE_VERIFIED_EMAIL: 'no' })).toThrow(/^OIDC_REQUIRE_VERIFIED_EMAIL: must be one of true, false \(got "no"\)$/);
  });
});
