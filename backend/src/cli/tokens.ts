import type { Static } from 'typebox';
import type * as S from '../admin/schemas.ts';
import { CliError, need, type Globals, type Handler } from './context.ts';
import { api } from './http.ts';
import { out, table } from './output.ts';

// tokens create|list|revoke: automation tokens for scripts, CI and the identity provider's SCIM
// connector (README "Sign-in and roles"). A token is named by its id, its name or its prefix.

type ApiToken = Static<typeof S.ApiToken>;

const ROLES: readonly string[] = ['admin', 'viewer', 'scim'] satisfies ApiToken['role'][];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function listTokens(g: Globals): Promise<ApiToken[]> {
  return (await api<Static<typeof S.ApiTokenList>>(g, 'GET', '/admin/tokens')).items;
}

/**
 * The one token `ref` names: its id, else its name (case-insensitive) or the start of its token,
 * among the tokens not yet revoked when a revoked one shares the name (names need not be unique).
 */
async function findToken(g: Globals, ref: string): Promise<ApiToken> {
  const tokens = await listTokens(g);
  if (UUID.test(ref)) {
    const byId = tokens.find((t) => t.id === ref.toLowerCase());
    if (!byId) throw new CliError(`no automation token with id ${ref} (see "ccproxy tokens list")`);
    return byId;
  }
  const named = tokens.filter((t) => t.name.toLowerCase() === ref.toLowerCase() || (ref.startsWith('ccp_') && (t.token_prefix.startsWith(ref) || ref.startsWith(t.token_prefix))));
  const live = named.filter((t) => !t.revoked_at);
  const candidates = live.length > 0 ? live : named;
  const [only, ...more] = candidates;
  if (!only) throw new CliError(`no automation token named "${ref}" (see "ccproxy tokens list")`);
  if (more.length > 0) {
    const listed = candidates.map((t) => `${t.name} (${t.token_prefix}…, ${t.role}, created ${t.created_at}, ${t.id})`).join('; ');
    throw new CliError(`"${ref}" names ${candidates.length} tokens: ${listed}; give the token id`);
  }
  return only;
}

export const tokenCommands: Record<string, Handler> = {
  'tokens create': async ({ g, values, action, arg }) => {
    const name = need(action && arg, 'token name');
    const role = need(values.role, '--role admin|viewer|scim');
    if (!ROLES.includes(role)) throw new CliError(`--role must be one of ${ROLES.join(', ')} (got "${role}")`);
    const days = need(values.days, '--days n (the token stops working that many days from now, 1 to 366)');
    if (!/^\d+$/.test(days)) throw new CliError(`--days must be a whole number of days from 1 to 366 (got "${days}")`);
    const created = await api<Static<typeof S.CreatedApiToken>>(g, 'POST', '/admin/tokens', { name, role, expires_in_days: Number(days) });
    const use =
      created.role === 'scim'
        ? `Enter it in the identity provider's SCIM provisioning: base URL ${g.url}/scim/v2, HTTP header (bearer) token as above.\n`
        : `Use it from scripts and CI instead of "ccproxy login":\n  export CCPROXY_TOKEN=${created.token}\n` + `or send it to the admin API as the header  Authorization: Bearer ${created.token}\n`;
    return out(
      g,
      created,
      `Automation token ${created.name}, role ${created.role}, until ${created.expires_at} (shown only now):\n\n  ${created.token}\n\n` +
        `Token id: ${created.id}  prefix: ${created.token_prefix}  (tokens revoke takes the id or the name)\n\n${use}`,
    );
  },

  'tokens list': async ({ g }) => {
    const items = await listTokens(g);
    const rows = items.map((t) => ({ ...t, last_used_at: t.last_used_at ?? 'never' }));
    const columns = ['id', 'name', 'role', 'status', 'token_prefix', 'created_by', 'created_at', 'expires_at', 'last_used_at', 'revoked_at'];
    return out(g, { items }, `${table(rows, columns)}\n${items.length} token(s)`);
  },

  'tokens revoke': async ({ g, arg }) => {
    const token = await findToken(g, need(arg, 'token id or name'));
    const label = `${token.name} (${token.id})`;
    if (token.revoked_at) return out(g, { id: token.id, name: token.name, status: 'revoked' }, `Automation token ${label} was already revoked at ${token.revoked_at}`);
    await api(g, 'DELETE', `/admin/tokens/${token.id}`);
    return out(g, { id: token.id, name: token.name, status: 'revoked' }, `Revoked automation token ${label}: it stops working at once, on every task`);
  },
};
