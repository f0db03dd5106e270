import { describe, expect, it } from 'vitest';
import { parseTokenDays, tokenSnippets } from '../src/lib/api-tokens.ts';

describe('parseTokenDays', () => {
  it('takes whole days from 1 to 366', () => {
    expect(parseTokenDays(' 90 ')).toBe(90);
    expect(parseTokenDays('1')).toBe(1);
    expect(parseTokenDays('366')).toBe(366);
  });
  it('refuses anything else, saying what it wants', () => {
    for (const bad of ['0', '367', '1.5', '-3', '', 'ninety']) expect(() => parseTokenDays(bad)).toThrow(/whole number of days from 1 to 366/);
  });
});

describe('tokenSnippets', () => {
  const token = 'ccp_AbC123';
  it('gives an admin or viewer token to the CLI and to any HTTP client of this server', () => {
    const snippets = tokenSnippets('https://proxy.example.com/', token, 'viewer');
    expect(snippets.map((s) => s.text)).toEqual([
      'export CCPROXY_URL=https://proxy.example.com\nexport CCPROXY_TOKEN=ccp_AbC123',
      "curl -H 'Authorization: Bearer ccp_AbC123' https://proxy.example.com/admin/users",
    ]);
  });
  it("gives a scim token the SCIM base URL, which the identity provider's settings ask for", () => {
    const snippets = tokenSnippets('https://proxy.example.com', token, 'scim');
    expect(snippets).toHaveLength(1);
    expect(snippets[0]!.text).toBe('https://proxy.example.com/scim/v2');
    expect(JSON.stringify(snippets)).not.toContain('CCPROXY_TOKEN');
  });
});
