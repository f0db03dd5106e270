import { describe, expect, it } from 'vitest';
import { tokenStatus } from '../../../src/admin/api-tokens.ts';

// The status GET /admin/tokens reports, which the CLI and the dashboard show as it is.
describe('tokenStatus', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const at = (iso: string) => new Date(iso);
  it('is revoked once revoked, whatever the expiry', () => {
    expect(tokenStatus({ expiresAt: at('2027-01-01T00:00:00Z'), revokedAt: at('2026-02-01T00:00:00Z') }, now)).toBe('revoked');
    expect(tokenStatus({ expiresAt: at('2026-01-01T00:00:00Z'), revokedAt: at('2026-02-01T00:00:00Z') }, now)).toBe('revoked');
  });
  it('is expired from the expiry instant on, active before it', () => {
    expect(tokenStatus({ expiresAt: at('2026-03-01T12:00:00Z'), revokedAt: null }, now)).toBe('expired');
    expect(tokenStatus({ expiresAt: at('2026-03-01T12:00:01Z'), revokedAt: null }, now)).toBe('active');
  });
});
