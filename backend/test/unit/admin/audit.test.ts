import { describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../../src/admin/audit.ts';

describe('scrubSecrets', () => {
  it('drops secret-named fields at any depth and keeps everything else', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    expect(
      scrubSecrets({
        id: 'k1',
        raw_key: 'ak_secret',
        key_hash: 'ab12',
        key_prefix: 'ak_abcdefgh',
        last4: 'wxyz',
        nested: { password: 'p', bedrock_api_key: 'b', access_token: 't', token_type: 'bearer', list: [{ encrypted_key: 'e', ok: 1 }] },
        at,
        missing: undefined,
        empty: null,
        fn: () => 1,
      }),
    ).toEqual({
      id: 'k1',
      key_prefix: 'ak_abcdefgh',
      last4: 'wxyz',
      nested: { token_type: 'bearer', list: [{ ok: 1 }] },
      at: '2026-01-02T03:04:05.000Z',
      empty: null,
      fn: null,
    });
    expect(scrubSecrets(undefined)).toBeNull();
  });
});
