import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { AccessKeyRow } from '../db/access-key-repository.ts';
import { accessKeyPrefix, generateAccessKey } from '../security/access-key.ts';
import { EnvelopeError } from '../security/envelope.ts';
import { auditContext, type AuditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { bedrockKeyStatusJson } from './bedrock-keys.ts';
import { breakerJson, withoutBedrockKey } from './circuit-breakers.ts';
import { AccessKey, AccessKeyList, IdParams, IssueKeyBody, IssuedKey, NoContent, RotatedKey, UpdateKeyBody } from './schemas.ts';

export function keyJson(row: AccessKeyRow, hasBedrockKey: boolean): Static<typeof AccessKey> {
  return {
    id: row.id,
    user_id: row.userId,
    key_prefix: row.keyPrefix,
    status: row.status,
    bedrock_region: row.bedrockRegion,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
    rotation_expires_at: row.rotationExpiresAt?.toISOString() ?? null,
    has_bedrock_key: hasBedrockKey,
  };
}

export async function accessKeyRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  /** A key and whether it has a Bedrock key, or 404. */
  async function load(id: string) {
    const row = await deps.accessKeys.get(id);
    if (!row) throw notFound('access key');
    return { row, hasBedrockKey: (await deps.bedrockKeys.configured([row.id])).has(row.id) };
  }

  app.post(
    '/users/:id/access-keys',
    { schema: { summary: 'Issue an access key; the raw key is in this response only', params: IdParams, body: Type.Optional(IssueKeyBody), response: { 201: IssuedKey } } },
    async (request, reply) => {
      const { row, rawKey } = await issueAccessKey(deps, auditContext(request), request.params.id, request.body?.bedrock_region ?? null);
      // The raw key exists only in this response; the database keeps its HMAC.
      return reply.code(201).send({ ...keyJson(row, false), raw_key: rawKey });
    },
  );

  app.get(
    '/users/:id/access-keys',
    {
      schema: {
        summary: 'A user\'s access keys, newest first (never the keys themselves), each with its Bedrock key status and this task\'s circuit breaker',
        params: IdParams,
        response: { 200: AccessKeyList },
      },
    },
    async (request) => {
      const user = await deps.users.getIncludingDeleted(request.params.id);
      if (!user) throw notFound('user');
      return { items: await listAccessKeys(deps, user.id) };
    },
  );

  app.get('/access-keys/:id', { schema: { summary: 'One access key', params: IdParams, response: { 200: AccessKey } } }, async (request) => {
    const { row, hasBedrockKey } = await load(request.params.id);
    return keyJson(row, hasBedrockKey);
  });

  app.patch(
    '/access-keys/:id',
    { schema: { summary: 'Set the key\'s own Bedrock region', params: IdParams, body: UpdateKeyBody, response: { 200: AccessKey } } },
    async (request) => {
      const { row, hasBedrockKey } = await load(request.params.id);
      const after = await deps.transact(auditContext(request), async (tx) => {
        const updated = await tx.accessKeys.setRegion(row.id, request.body.bedrock_region);
        if (!updated) throw new AdminError(409, 'conflict_error', `access key ${row.id} is revoked`);
        await tx.audit({ action: 'access_key.update', targetType: 'access_key', targetId: row.id, before: keyJson(row, hasBedrockKey), after: keyJson(updated, hasBedrockKey) });
        tx.changed({ topic: 'access_key', id: row.id }); // the region is in the proxy's cached key context
        return updated;
      });
      return keyJson(after, hasBedrockKey);
    },
  );

  app.delete(
    '/access-keys/:id',
    { schema: { summary: 'Revoke a key: it stops working on every proxy task at once, and its Bedrock key is erased', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { row, hasBedrockKey } = await load(request.params.id);
      await revokeAccessKey(deps, auditContext(request), row, hasBedrockKey);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/access-keys/:id/rotate',
    {
      schema: {
        summary: 'Rotate: a new key (raw, in this response only) with the same user, region and Bedrock key; the old one works until the grace period ends, then the server revokes it',
        params: IdParams,
        response: { 201: RotatedKey },
      },
    },
    async (request, reply) => {
      const { row: old } = await load(request.params.id);
      return reply.code(201).send(await rotateAccessKey(deps, auditContext(request), old));
    },
  );
}

// The actions below serve both the admin's routes and a developer's own (me.ts).

/** Issues a key for an existing user; with `maxLiveKeys`, refuses (409) once the user has that many unrevoked keys. */
export async function issueAccessKey(
  deps: AdminDeps,
  context: AuditContext,
  userId: string,
  bedrockRegion: string | null,
  options: { maxLiveKeys?: number } = {},
): Promise<{ row: AccessKeyRow; rawKey: string }> {
  const rawKey = generateAccessKey();
  const row = await deps.transact(context, async (tx) => {
    const user = await tx.users.get(userId);
    if (!user) throw notFound('user');
    if (options.maxLiveKeys !== undefined) {
      // The user's row locked: two issues at once cannot both see room for one more key.
      await tx.db.execute(sql`SELECT 1 FROM users WHERE id = ${user.id} FOR UPDATE`);
      const live = (await tx.accessKeys.listByUser(user.id)).filter((k) => k.status !== 'revoked').length;
      if (live >= options.maxLiveKeys) {
        throw new AdminError(409, 'conflict_error', `access keys: you have ${live} unrevoked keys, the most allowed (DEVELOPER_MAX_KEYS is ${options.maxLiveKeys}); revoke one first`);
      }
    }
    const created = await tx.accessKeys.create({ userId: user.id, keyHash: deps.hashKey(rawKey), keyPrefix: accessKeyPrefix(rawKey), bedrockRegion });
    await tx.audit({ action: 'access_key.issue', targetType: 'access_key', targetId: created.id, before: null, after: keyJson(created, false) });
    return created;
  });
  return { row, rawKey };
}

/** A user's keys, newest first, each with its Bedrock key status and this task's breaker. */
export async function listAccessKeys(deps: AdminDeps, userId: string): Promise<Static<typeof AccessKeyList>['items']> {
  const rows = await deps.accessKeys.listByUser(userId);
  // Every key's Bedrock key in one query; breakers are this task's memory (no query).
  const bedrock = new Map((await deps.bedrockKeys.getMany(rows.map((r) => r.id))).map((b) => [b.accessKeyId, bedrockKeyStatusJson(b)]));
  const noKey = await withoutBedrockKey(deps, rows.map((r) => r.id));
  return rows.map((r) => ({
    ...keyJson(r, bedrock.has(r.id)),
    bedrock_key: bedrock.get(r.id) ?? null,
    circuit_breaker: breakerJson(deps.breakers.snapshot(r.id), noKey.has(r.id) ? 'no_bedrock_key' : null),
  }));
}

/** Revokes a key on every task and erases its Bedrock key; a revoked key is left as it is. */
export async function revokeAccessKey(deps: AdminDeps, context: AuditContext, row: AccessKeyRow, hasBedrockKey: boolean): Promise<void> {
  if (row.status === 'revoked') return; // nothing changes, nothing to audit
  await deps.transact(context, async (tx) => {
    const revoked = await tx.accessKeys.revokeIfLive(row.id);
    if (!revoked) return; // revoked meanwhile by someone else, who audited it
    const erased = await tx.bedrockKeys.delete(row.id);
    await tx.audit({
      action: 'access_key.revoke',
      targetType: 'access_key',
      targetId: row.id,
      before: keyJson(row, hasBedrockKey),
      after: { ...keyJson(revoked, false), bedrock_key_erased: erased },
    });
    tx.changed({ topic: 'access_key', id: row.id });
  });
}

/** A new key (raw, once) with the old one's user, region and Bedrock key; the old one works until the grace period ends. */
export async function rotateAccessKey(deps: AdminDeps, context: AuditContext, old: AccessKeyRow): Promise<Static<typeof RotatedKey>> {
  if (old.status !== 'active') throw new AdminError(409, 'conflict_error', `access key ${old.id} is ${old.status}; only an active key can be rotated`);
  const newId = randomUUID();
  const bedrockKey = await copyBedrockKey(deps, old.id, newId);
  const rawKey = generateAccessKey();
  const expiresAt = new Date(Date.now() + deps.keyRotationGraceMs);
  const { rotating, created } = await deps.transact(context, async (tx) => {
    const rotating = await tx.accessKeys.startRotation(old.id, expiresAt);
    if (!rotating) throw new AdminError(409, 'conflict_error', `access key ${old.id} is no longer active; only an active key can be rotated`);
    const created = await tx.accessKeys.create({ id: newId, userId: old.userId, keyHash: deps.hashKey(rawKey), keyPrefix: accessKeyPrefix(rawKey), bedrockRegion: old.bedrockRegion });
    if (bedrockKey) await tx.bedrockKeys.upsert({ accessKeyId: newId, ...bedrockKey });
    const hasBedrockKey = bedrockKey !== null;
    await tx.audit({
      action: 'access_key.rotate',
      targetType: 'access_key',
      targetId: old.id,
      before: keyJson(old, hasBedrockKey),
      after: { ...keyJson(rotating, hasBedrockKey), replaced_by: newId },
    });
    await tx.audit({ action: 'access_key.issue', targetType: 'access_key', targetId: newId, before: null, after: { ...keyJson(created, hasBedrockKey), rotated_from: old.id } });
    // The old key's cached context has no expiry yet: every process must learn it.
    tx.changed({ topic: 'access_key', id: old.id });
    return { rotating, created };
  });
  return {
    ...keyJson(created, bedrockKey !== null),
    raw_key: rawKey,
    replaces: { id: old.id, rotation_expires_at: rotating.rotationExpiresAt!.toISOString() },
  };
}

/**
 * The old key's Bedrock key, re-encrypted for the new access key id (the id is the envelope's
 * additional authenticated data, so the blob itself cannot be copied). Null when there is none.
 */
async function copyBedrockKey(deps: AdminDeps, fromId: string, toId: string): Promise<{ encryptedKey: Buffer; last4: string } | null> {
  const stored = await deps.bedrockKeys.get(fromId);
  if (!stored) return null;
  try {
    const plaintext = await deps.envelope.decrypt(stored.encryptedKey, fromId);
    return { encryptedKey: await deps.envelope.encrypt(plaintext, toId), last4: stored.last4 };
  } catch (err) {
    if (err instanceof EnvelopeError) {
      deps.logger.error({ err, code: err.code, accessKeyId: fromId }, 'bedrock key could not be carried over to the rotated key');
      throw new AdminError(503, 'api_error', `the Bedrock key of access key ${fromId} could not be re-encrypted for the new key (${err.code}); nothing was changed`);
    }
    throw err;
  }
}
