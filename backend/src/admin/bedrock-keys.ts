import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { BedrockKeyRow } from '../db/bedrock-key-repository.ts';
import { blobScheme, EnvelopeError } from '../security/envelope.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { BedrockKeyStatus, IdParams, NoContent, PutBedrockKeyBody } from './schemas.ts';

// The Bedrock API key of an access key: set or replace, status, delete. The key goes in once and
// never comes back out: responses carry its last four characters, the logger redacts the field.

export function bedrockKeyStatusJson(row: BedrockKeyRow): Static<typeof BedrockKeyStatus> {
  return {
    access_key_id: row.accessKeyId,
    configured: true as const,
    last4: row.last4,
    encryption: blobScheme(row.encryptedKey) ?? 'unknown',
    created_at: row.createdAt.toISOString(),
    updated_at: row.rotatedAt.toISOString(),
  };
}

export async function bedrockKeyRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  async function accessKey(id: string) {
    const key = await deps.accessKeys.get(id);
    if (!key) throw notFound('access key');
    return key;
  }

  app.put(
    '/access-keys/:id/bedrock-key',
    {
      schema: {
        summary: 'Set or replace the access key\'s Bedrock API key (stored envelope-encrypted, never shown again)',
        params: IdParams,
        body: PutBedrockKeyBody,
        response: { 200: BedrockKeyStatus },
      },
    },
    async (request) => {
      const key = await accessKey(request.params.id);
      if (key.status === 'revoked') {
        throw new AdminError(409, 'conflict_error', `access key ${key.id} is revoked; register the Bedrock key on a usable access key`);
      }
      const bedrockApiKey = request.body.bedrock_api_key.trim();
      if (!/^[\x21-\x7e]+$/.test(bedrockApiKey)) {
        throw new AdminError(400, 'invalid_request_error', 'bedrock_api_key: must be printable ASCII without spaces or line breaks');
      }
      let encryptedKey: Buffer;
      try {
        encryptedKey = await deps.envelope.encrypt(bedrockApiKey, key.id);
      } catch (err) {
        if (err instanceof EnvelopeError) {
          deps.logger.error({ err, code: err.code, accessKeyId: key.id }, 'bedrock key encryption failed');
          throw new AdminError(503, 'api_error', `the Bedrock key could not be encrypted (${err.code})`);
        }
        throw err;
      }
      const row = await deps.transact(auditContext(request), async (tx) => {
        const before = await tx.bedrockKeys.get(key.id);
        const after = await tx.bedrockKeys.upsert({ accessKeyId: key.id, encryptedKey, last4: bedrockApiKey.slice(-4) });
        await tx.audit({ action: 'bedrock_key.set', targetType: 'bedrock_key', targetId: key.id, before: before && bedrockKeyStatusJson(before), after: bedrockKeyStatusJson(after) });
        tx.changed({ topic: 'bedrock_key', id: key.id });
        return after;
      });
      return bedrockKeyStatusJson(row);
    },
  );

  app.get(
    '/access-keys/:id/bedrock-key',
    { schema: { summary: 'Whether a Bedrock key is set: its last four characters and dates, never the key', params: IdParams, response: { 200: BedrockKeyStatus } } },
    async (request) => {
      const key = await accessKey(request.params.id);
      const row = await deps.bedrockKeys.get(key.id);
      if (!row) throw new AdminError(404, 'not_found_error', `access key ${key.id} has no Bedrock key; set one with PUT {"bedrock_api_key": …}`);
      return bedrockKeyStatusJson(row);
    },
  );

  app.delete('/access-keys/:id/bedrock-key', { schema: { summary: 'Erase the access key\'s Bedrock key', params: IdParams, response: { 204: NoContent } } }, async (request, reply) => {
    const key = await accessKey(request.params.id);
    await deps.transact(auditContext(request), async (tx) => {
      const before = await tx.bedrockKeys.get(key.id);
      if (!before || !(await tx.bedrockKeys.delete(key.id))) throw new AdminError(404, 'not_found_error', `access key ${key.id} has no Bedrock key`);
      await tx.audit({ action: 'bedrock_key.delete', targetType: 'bedrock_key', targetId: key.id, before: bedrockKeyStatusJson(before), after: null });
      tx.changed({ topic: 'bedrock_key', id: key.id });
    });
    return reply.code(204).send(null);
  });
}
