import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccessKeyRow } from '../db/access-key-repository.ts';
import { accessKeyPrefix, generateAccessKey } from '../security/access-key.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { AccessKey, IdParams, IssueKeyBody, IssuedKey } from './schemas.ts';

function keyJson(row: AccessKeyRow) {
  return {
    id: row.id,
    user_id: row.userId,
    key_prefix: row.keyPrefix,
    status: row.status,
    bedrock_region: row.bedrockRegion,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
    rotation_expires_at: row.rotationExpiresAt?.toISOString() ?? null,
  };
}

export async function accessKeyRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/users/:id/access-keys',
    { schema: { params: IdParams, body: Type.Optional(IssueKeyBody), response: { 201: IssuedKey } } },
    async (request, reply) => {
      const user = await deps.users.get(request.params.id);
      if (!user) throw notFound('user');
      const rawKey = generateAccessKey();
      const row = await deps.accessKeys.create({
        userId: user.id,
        keyHash: deps.hashKey(rawKey),
        keyPrefix: accessKeyPrefix(rawKey),
        bedrockRegion: request.body?.bedrock_region ?? null,
      });
      // The raw key exists only in this response; the database keeps its HMAC.
      return reply.code(201).send({ ...keyJson(row), raw_key: rawKey });
    },
  );

  app.get(
    '/users/:id/access-keys',
    { schema: { params: IdParams, response: { 200: Type.Object({ items: Type.Array(AccessKey) }) } } },
    async (request) => {
      const user = await deps.users.get(request.params.id);
      if (!user) throw notFound('user');
      return { items: (await deps.accessKeys.listByUser(user.id)).map(keyJson) };
    },
  );

  app.delete('/access-keys/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await deps.accessKeys.revoke(request.params.id);
    if (!row) throw notFound('access key');
    deps.resolver.invalidate((ctx) => ctx.accessKeyId === row.id);
    return reply.code(204).send();
  });
}
