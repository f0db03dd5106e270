import { describe, expect, it } from 'vitest';
import { pgConnection, strictestSslMode, urlSslMode } from '../../../src/db/tls.ts';

const URL = 'postgres://app:pw@db.example.com:5432/proxy';

describe('urlSslMode', () => {
  it.each([
    [URL, undefined],
    [`${URL}?sslmode=disable`, 'disable'],
    [`${URL}?sslmode=require`, 'require'],
    [`${URL}?sslmode=no-verify`, 'require'],
    [`${URL}?application_name=x&sslmode=verify-full`, 'verify-full'],
  ])('%s asks for %s', (url, mode) => {
    expect(urlSslMode(url)).toBe(mode);
  });

  it.each([
    [`${URL}?sslmode=prefer`, 'sslmode=prefer is not supported: use disable, require or verify-full'],
    [`${URL}?sslmode=verify-ca`, 'sslmode=verify-ca is not supported'],
    [`${URL}?sslcert=/c.pem&sslkey=/k.pem`, 'the URL parameter sslcert is not supported'],
    [`${URL}?ssl=true`, 'the URL parameter ssl is not supported'],
    [`${URL}?uselibpqcompat=true`, 'the URL parameter uselibpqcompat is not supported'],
  ])('%s is refused', (url, message) => {
    expect(() => urlSslMode(url)).toThrow(message);
  });
});

describe('strictestSslMode', () => {
  it.each([
    [[], 'disable'],
    [['disable', 'require'], 'require'],
    [['verify-full', 'disable'], 'verify-full'],
    [['require', 'verify-full', 'disable'], 'verify-full'],
  ] as const)('%o → %s', (modes, expected) => {
    expect(strictestSslMode(modes)).toBe(expected);
  });
});

describe('pgConnection', () => {
  it('takes the sslmode out of the URL, so node-postgres cannot apply it over the TLS options', () => {
    expect(pgConnection(`${URL}?sslmode=disable&application_name=proxy`, { mode: 'verify-full', ca: 'PEM' })).toEqual({
      connectionString: `${URL}?application_name=proxy`,
      ssl: { rejectUnauthorized: true, ca: 'PEM' },
    });
  });

  it.each([
    [{ mode: 'disable' as const }, false],
    [{ mode: 'require' as const }, { rejectUnauthorized: false }],
    [{ mode: 'verify-full' as const }, { rejectUnauthorized: true }],
  ])('%o → ssl %o', (tls, ssl) => {
    expect(pgConnection(URL, tls)).toEqual({ connectionString: URL, ssl });
  });
});
