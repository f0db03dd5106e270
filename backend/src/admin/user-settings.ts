import type { FastifyRequest } from 'fastify';
import type { UserChanges, UserRow } from '../db/user-repository.ts';
import { auditContext } from './audit.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';

/**
 * Changes some of a user's proxy settings (limits, the Plan rule): one audited transaction, and
 * every task's cached key contexts of the user re-read, since the settings live in them. Returns
 * the settings as `view` shows them.
 */
export async function updateUserSettings<T>(
  deps: Pick<AdminDeps, 'transact'>,
  request: FastifyRequest,
  userId: string,
  action: string,
  changes: UserChanges,
  view: (row: UserRow) => T,
): Promise<T> {
  const row = await deps.transact(auditContext(request), async (tx) => {
    const before = await tx.users.get(userId);
    if (!before) throw notFound('user');
    const after = (await tx.users.update(before.id, changes))!;
    await tx.audit({ action, targetType: 'user', targetId: after.id, before: view(before), after: view(after) });
    tx.changed({ topic: 'user', id: after.id });
    return after;
  });
  return view(row);
}
