import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { createApiTokenRepository, type ApiTokenRow } from '../db/api-token-repository.ts';
import { apiTokenPrefix, generateApiToken, hashApiToken } from '../security/api-token.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { ADMIN } from './roles.ts';
import { ApiToken, ApiTokenList, CreateApiTokenBody, CreatedApiToken, IdParams, NoContent } from './schemas.ts';

// Automation tokens for scripts and CI (README "Sign-in and roles"): named, with a role and an
// expiry, shown once, kept as a SHA-256 (security/api-token.ts), listed with their last use, revoked
// by an admin. Sent as `Authorization: Bearer ccp_…`; the audit log names them `token:<name>`.

/** Whether the server accepts the token at `now`: the one reading the CLI and the dashboard show. */
export function tokenStatus(row: Pick<ApiTokenRow, 'expiresAt' | 'revokedAt'>, now = Date.now()): Static<typeof ApiToken>['status'] {
  if (row.revokedAt) return 'revoked';
  return row.expiresAt.getTime() <= now ? 'expired' : 'active';
}

function tokenJson(row: ApiTokenRow): Static<typeof ApiToken> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    token_prefix: row.tokenPrefix,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
    status: tokenStatus(row),
  };
}

export async function apiTokenRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/tokens',
    { config: { roles: ADMIN }, schema: { summary: 'Create an automation token; the token is in this response only', body: CreateApiTokenBody, response: { 201: CreatedApiToken } } },
    async (request, reply) => {
      const token = generateApiToken();
      const { role, expires_in_days } = request.body;
      const name = request.body.name.trim();
      if (!name) throw new AdminError(400, 'invalid_request_error', 'name: must not be blank');
      const context = auditContext(request);
      const row = await deps.transact(context, async (tx) => {
        const created = await createApiTokenRepository(tx.db).create({
          name,
          role,
          tokenHash: hashApiToken(token),
          tokenPrefix: apiTokenPrefix(token),
          createdBy: context.actor,
          expiresAt: new Date(Date.now() + expires_in_days * 86_400_000),
        });
        await tx.audit({ action: 'api_token.create', targetType: 'api_token', targetId: created.id, before: null, after: tokenJson(created) });
        return created;
      });
      return reply.code(201).send({ ...tokenJson(row), token });
    },
  );

  app.get(
    '/tokens',
    { config: { roles: ADMIN }, schema: { summary: 'Every automation token, newest first, with its last use (never the token)', response: { 200: ApiTokenList } } },
    async () => ({ items: (await deps.apiTokens.list()).map(tokenJson) }),
  );

  app.delete(
    '/tokens/:id',
    { config: { roles: ADMIN }, schema: { summary: 'Revoke a token: it stops working at once, on every task', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const before = await deps.apiTokens.get(request.params.id);
      if (!before) throw notFound('token');
      if (before.revokedAt) return reply.code(204).send(null); // nothing changes, nothing to audit
      await deps.transact(auditContext(request), async (tx) => {
        const revoked = await createApiTokenRepository(tx.db).revoke(before.id);
        if (!revoked) return; // revoked meanwhile by someone else, who audited it
        await tx.audit({ action: 'api_token.revoke', targetType: 'api_token', targetId: before.id, before: tokenJson(before), after: tokenJson(revoked) });
      });
      return reply.code(204).send(null);
    },
  );
}
