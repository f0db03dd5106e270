import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccessKeyRow } from '../db/access-key-repository.ts';
import type { BedrockKeyRow } from '../db/bedrock-key-repository.ts';
import { blobScheme, EnvelopeError } from '../security/envelope.ts';
import { auditContext, type AuditContext } from './audit.ts';
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
    async (request) => setBedrockKey(deps, auditContext(request), await accessKey(request.params.id), request.body.bedrock_api_key),
  );

  app.get(
    '/access-keys/:id/bedrock-key',
    { schema: { summary: 'Whether a Bedrock key is set: its last four characters and dates, never the key', params: IdParams, response: { 200: BedrockKeyStatus } } },
    async (request) => bedrockKeyStatus(deps, await accessKey(request.params.id)),
  );

  app.delete('/access-keys/:id/bedrock-key', { schema: { summary: 'Erase the access key\'s Bedrock key', params: IdParams, response: { 204: NoContent } } }, async (request, reply) => {
    await deleteBedrockKey(deps, auditContext(request), await accessKey(request.params.id));
    return reply.code(204).send(null);
  });
}

// The actions below serve both the admin's routes and a developer's own (me.ts).

/** Sets or replaces the key's Bedrock API key: encrypted for this access key, audited, every task told. */
export async function setBedrockKey(deps: AdminDeps, context: AuditContext, key: AccessKeyRow, raw: string): Promise<Static<typeof BedrockKeyStatus>> {
  if (key.status === 'revoked') {
    throw new AdminError(409, 'conflict_error', `access key ${key.id} is revoked; register the Bedrock key on a usable access key`);
  }
  const bedrockApiKey = raw.trim();
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
  const row = await deps.transact(context, async (tx) => {
    const before = await tx.bedrockKeys.get(key.id);
    const after = await tx.bedrockKeys.upsert({ accessKeyId: key.id, encryptedKey, last4: bedrockApiKey.slice(-4) });
    await tx.audit({ action: 'bedrock_key.set', targetType: 'bedrock_key', targetId: key.id, before: before && bedrockKeyStatusJson(before), after: bedrockKeyStatusJson(after) });
    tx.changed({ topic: 'bedrock_key', id: key.id });
    return after;
  });
  return bedrockKeyStatusJson(row);
}

/** The key's Bedrock key status (last four, dates), or 404 when it has none. */
export async function bedrockKeyStatus(deps: AdminDeps, key: AccessKeyRow): Promise<Static<typeof BedrockKeyStatus>> {
  const row = await deps.bedrockKeys.get(key.id);
  if (!row) throw new AdminError(404, 'not_found_error', `access key ${key.id} has no Bedrock key; set one with PUT {"bedrock_api_key": …}`);
  return bedrockKeyStatusJson(row);
}

/** Erases the key's Bedrock key (404 when it has none). */
export async function deleteBedrockKey(deps: AdminDeps, context: AuditContext, key: AccessKeyRow): Promise<void> {
  await deps.transact(context, async (tx) => {
    const before = await tx.bedrockKeys.get(key.id);
    if (!before || !(await tx.bedrockKeys.delete(key.id))) throw new AdminError(404, 'not_found_error', `access key ${key.id} has no Bedrock key`);
    await tx.audit({ action: 'bedrock_key.delete', targetType: 'bedrock_key', targetId: key.id, before: bedrockKeyStatusJson(before), after: null });
    tx.changed({ topic: 'bedrock_key', id: key.id });
  });
}
