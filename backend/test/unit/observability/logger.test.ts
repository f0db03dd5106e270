import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../../../src/observability/logger.ts';

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
