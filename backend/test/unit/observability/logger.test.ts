import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { censorFields, createLogger, redactUrl } from '../../../src/observability/logger.ts';

describe('logger redaction', () => {
  it('shortens access keys in URLs to a prefix', () => {
    const key = `ak_${'A'.repeat(43)}`;
    expect(redactUrl(`/ak/${key}/v1/messages?beta=true`)).toBe('/ak/ak_AAAAA…/v1/messages?beta=true');
  });

  it('redacts credentials, passwords and tokens on every line', () => {
    let out = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    const logger = createLogger('info', sink);
    const key = `ak_${'B'.repeat(43)}`;
    logger.info({ req: { headers: { authorization: 'Bearer sk-secret', 'x-api-key': 'sk-ant-secret', 'x-proxy-key': key } }, url: `/ak/${key}/v1/messages` }, 'in');
    logger.info({ password: 'hunter2', body: { password: 'hunter3', token: 'jwt.x.y' }, access_token: 'jwt.a.b', raw_key: key }, 'admin');
    for (const secret of ['sk-secret', 'sk-ant-secret', key, 'hunter2', 'hunter3', 'jwt.x.y', 'jwt.a.b']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});

describe('scrubbing every finished line', () => {
  const accessKey = `ak_${'Zq9'.repeat(14)}x`;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImF1ZCI6ImNjcHJveHkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const bedrockLong = 'ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=';
  const bedrockShort = 'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbg==';
  const anthropicKey = 'sk-ant-api03-Secr3tSecr3tSecr3tSecr3tSecr3t-AAAA';

  function logged(write: (logger: ReturnType<typeof createLogger>) => void): string {
    let out = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    write(createLogger('trace', sink));
    for (const line of out.split('\n').filter(Boolean)) JSON.parse(line); // still one JSON document per line
    return out;
  }

  it('finds secrets in any field and any text: messages, error stacks, logged bodies, URLs', () => {
    const out = logged((logger) => {
      logger.error({ err: new Error(`upstream said no to ${accessKey} with Bearer ${anthropicKey}`) }, 'failed');
      logger.warn({ detail: `token ${jwt} rejected`, db: 'connect ECONNREFUSED postgres://proxy:s3cr3t-db-pw@10.0.0.5:5432/proxy' }, 'x');
      logger.info({ body: JSON.stringify({ bedrock_api_key: bedrockLong, password: 'pa"ss\\word', nested: { raw_key: accessKey } }) }, 'body as text');
      logger.info({ truncated: '{"username":"admin","password":"never-logged-pass' }, 'cut body');
      logger.info({ sdk: { headers: { Authorization: `Bearer ${bedrockShort}` } } }, 'sdk request');
      logger.info(`GET /ak/${accessKey}/v1/messages?x=1 failed`);
      logger.info(`Bedrock answered 403 for key ${bedrockLong}`);
    });
    for (const secret of [accessKey, jwt, bedrockLong, bedrockShort, anthropicKey, 's3cr3t-db-pw', 'pa\\"ss', 'ss\\\\word', 'never-logged-pass']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(`${accessKey.slice(0, 11)}…`); // the key's prefix stays, to tell keys apart
    expect(out).toContain('postgres://proxy:[redacted]@10.0.0.5:5432/proxy');
    expect(out).toContain('[redacted-jwt]');
    expect(out).toContain('[redacted-bedrock-key]');
  });

  it('leaves an ordinary access line exactly as it was', () => {
    const fields = {
      reqId: 'req_0123456789abcdef0123456789abcdef',
      upstreamRequestId: 'req_011CUxAbCdEfGhIjKlMnOp',
      userId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      keyPrefix: 'ak_AbCdEfGh',
      provider: 'bedrock',
      fallback: 'overloaded',
      model: 'claude-sonnet-4-5',
      servedModel: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      status: 200,
      latencyMs: 1234,
      ttfbMs: 321,
      inputTokens: 12,
      outputTokens: 340,
    };
    const out = logged((logger) => logger.info(fields, 'request'));
    expect(JSON.parse(out)).toMatchObject(fields);
  });
});

describe('secret fields one level down', () => {
  function logged(write: (logger: ReturnType<typeof createLogger>) => void): Record<string, unknown>[] {
    let out = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    write(createLogger('info', sink));
    return out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('censors them in any logged object, in errors after serialising, and leaves the caller’s objects alone', () => {
    const body = { user: 'alice', apiKey: 42, sessionToken: { nested: 'opaque-session-value' } };
    const err = Object.assign(new Error('denied'), { secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY', status: 403 });
    class Credentials {
      readonly kind = 'aws';
      readonly secret = 'class-held-secret-value';
    }
    const [line] = logged((logger) => logger.info({ body, err, creds: new Credentials() }, 'x'));
    expect(line?.body).toEqual({ user: 'alice', apiKey: '[redacted]', sessionToken: '[redacted]' });
    expect(line?.err).toMatchObject({ type: 'Error', message: 'denied', status: 403, secretAccessKey: '[redacted]' });
    expect(line?.creds).toEqual({ kind: 'aws', secret: '[redacted]' });
    expect(body.apiKey).toBe(42); // a copy was censored, not the caller's object
    expect(err.secretAccessKey).toBe('wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY');
  });

  it('censorFields returns the object itself when nothing is secret', () => {
    const value = { a: 1, b: { token: 'deeper levels are not searched' } };
    expect(censorFields(value)).toBe(value);
    expect(censorFields({ token: 't', a: 1 })).toEqual({ token: '[redacted]', a: 1 });
  });
});
