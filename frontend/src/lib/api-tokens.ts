import type { ApiTokenRole } from './types.ts';

// Automation tokens on the API tokens page (README "Sign-in and roles"): what each role opens
// and what to paste where once one is made.

export const API_TOKEN_ROLE_LABELS: Record<ApiTokenRole, string> = {
  admin: 'admin: everything',
  viewer: 'viewer: read only',
  scim: 'scim: user provisioning by the identity provider (/scim/v2 only)',
};

/** The expiry the form starts with: a quarter, long enough for CI, short enough to be rotated. */
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 366;

/** The expiry field's text as whole days from 1 to 366, or why not. */
export function parseTokenDays(text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_TOKEN_DAYS) throw new Error(`Expires in: a whole number of days from 1 to ${MAX_TOKEN_DAYS}.`);
  return Number(t);
}

export interface TokenSnippet {
  label: string;
  text: string;
  copyLabel: string;
  testId: string;
}

/**
 * Where a new token goes: an `admin` or `viewer` token to the CLI (CCPROXY_TOKEN) or any HTTP
 * client of the admin API; a `scim` token, with this server's SCIM base URL, to the identity
 * provider's provisioning settings.
 */
export function tokenSnippets(origin: string, token: string, role: ApiTokenRole): TokenSnippet[] {
  const base = origin.trim().replace(/\/+$/, '');
  if (role === 'scim') {
    return [{ label: 'SCIM base URL (the token goes in the HTTP header / secret token field)', text: `${base}/scim/v2`, copyLabel: 'Copy SCIM URL', testId: 'token-scim-url' }];
  }
  return [
    { label: 'Admin CLI, in a script or CI job', text: `export CCPROXY_URL=${base}\nexport CCPROXY_TOKEN=${token}`, copyLabel: 'Copy CLI lines', testId: 'token-cli' },
    { label: 'Any HTTP client of the admin API', text: `curl -H 'Authorization: Bearer ${token}' ${base}/admin/users`, copyLabel: 'Copy curl line', testId: 'token-curl' },
  ];
}
