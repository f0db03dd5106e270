import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, planRequestHeaders } from '../../../src/proxy/headers.ts';

describe('headers to Anthropic', () => {
  it.each([
    ['x-api-key', 'sk-ant-1', true],
    ['authorization', 'Bearer t', true],
    ['anthropic-version', '2026-10-21', true],
    ['anthropic-beta', 'a,b', true],
    ['content-type', 'application/json', true],
    ['user-agent', 'claude-cli/2.1.332', true],
    ['x-stainless-retry-count', '0', true],
    ['x-app', 'cli', true],
    ['x-some-future-header', '1', true],
    ['host', 'proxy.example.com', false],
    ['content-length', '10', false],
    ['cookie', 'a=b', false],
    ['x-proxy-key', 'ak_x', false],
    ['accept-encoding', 'gzip', false],
    ['connection', 'keep-alive', false],
    ['keep-alive', 'timeout=5', false],
    ['transfer-encoding', 'chunked', false],
    ['upgrade', 'h2c', false],
    ['te', 'trailers', false],
    ['proxy-authorization', 'Basic x', false],
    ['x-forwarded-for', '1.2.3.4', false],
  ])('%s forwarded: %s', (name, value, forwarded) => {
    expect(planRequestHeaders({ [name]: value })[name] !== undefined).toBe(forwarded);
  });

  it('drops headers named by the Connection header (RFC 9110 §7.6.1)', () => {
    const out = planRequestHeaders({ connection: 'keep-alive, X-Session-Hop', 'x-session-hop': '1', 'x-other': '2' });
    expect(out).toEqual({ 'x-other': '2' });
  });

  it('adds the default key only when the client sent no credential', () => {
    expect(planRequestHeaders({}, 'sk-default')['x-api-key']).toBe('sk-default');
    expect(planRequestHeaders({ authorization: 'Bearer mine' }, 'sk-default')['x-api-key']).toBeUndefined();
    expect(planRequestHeaders({ 'x-api-key': 'mine' }, 'sk-default')['x-api-key']).toBe('mine');
  });
});

describe('headers back to the client', () => {
  it('keeps request ids, retry hints and every anthropic-* header; drops the rest', () => {
    const out = clientResponseHeaders({
      'content-type': 'text/event-stream',
      'request-id': 'req_1',
      'retry-after': '3',
      'retry-after-ms': '3000',
      'x-should-retry': 'false',
      'anthropic-ratelimit-tokens-remaining': '5',
      'anthropic-organization-id': 'org',
      'set-cookie': ['a=b'],
      'content-length': '10',
      'transfer-encoding': 'chunked',
      server: 'cloudflare',
    });
    expect(Object.keys(out).sort()).toEqual(
      ['anthropic-organization-id', 'anthropic-ratelimit-tokens-remaining', 'content-type', 'request-id', 'retry-after', 'retry-after-ms', 'x-should-retry'].sort(),
    );
  });
});
