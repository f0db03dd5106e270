import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { createUserIdentityRepository } from '../db/user-identity-repository.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { ADMIN } from './roles.ts';
import { IdParams, PutEmailBody, UserEmail } from './schemas.ts';
import { isUniqueViolation, userJson } from './users.ts';

// A user's email: what company sign-in (oidc.ts) links a person to on their first sign-in.

export async function userEmailRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.put(
    '/users/:id/email',
    {
      config: { roles: ADMIN },
      schema: { summary: "Set (or clear with null) the email a person signs in with; their first company sign-in links to this user", params: IdParams, body: PutEmailBody, response: { 200: UserEmail } },
    },
    async (request) => {
      const email = request.body.email?.trim() || null;
      try {
        const row = await deps.transact(auditContext(request), async (tx) => {
          const before = await tx.users.get(request.params.id);
          if (!before) throw notFound('user');
          const after = await createUserIdentityRepository(tx.db).setEmail(before.id, email);
          if (!after) throw notFound('user');
          await tx.audit({ action: 'user.email', targetType: 'user', targetId: after.id, before: userJson(before), after: userJson(after) });
          return after;
        });
        return { user_id: row.id, email: row.email };
      } catch (err) {
        if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `email: another user already has ${email}`);
        throw err;
      }
    },
  );
}
