import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { DEFAULT_MODEL_MAPPINGS } from '../bedrock/models.ts';
import type { ModelMappingRow } from '../db/model-mapping-repository.ts';
import { auditContext } from './audit.ts';
import { notFound } from './errors.ts';
import type { AdminDeps } from './plugin.ts';
import { Mapping, MappingList, ModelParams, NoContent, PutMappingBody } from './schemas.ts';

// Admin rows that add to or override the shipped Anthropic → Bedrock model table (bedrock/models.ts).

function mappingJson(row: ModelMappingRow): Static<typeof Mapping> {
  return {
    model: row.model,
    base_id: row.baseId,
    geographies: row.geographies,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function modelMappingRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/model-mappings',
    {
      schema: {
        summary: 'Admin model mappings (they win) and the shipped defaults',
        response: { 200: MappingList },
      },
    },
    async () => ({
      items: (await deps.modelMappings.rows()).map(mappingJson),
      defaults: DEFAULT_MODEL_MAPPINGS.map((m) => ({ model: m.model, base_id: m.baseId, geographies: [...m.geographies] })),
    }),
  );

  app.put(
    '/model-mappings/:model',
    { schema: { summary: 'Add or replace the mapping of one model; every task uses it from its next request', params: ModelParams, body: PutMappingBody, response: { 200: Mapping } } },
    async (request) => {
      const row = await deps.transact(auditContext(request), async (tx) => {
        const before = await tx.modelMappings.get(request.params.model);
        const after = await tx.modelMappings.upsert({ model: request.params.model, baseId: request.body.base_id, geographies: request.body.geographies });
        await tx.audit({ action: 'model_mapping.set', targetType: 'model_mapping', targetId: after.model, before: before && mappingJson(before), after: mappingJson(after) });
        tx.changed({ topic: 'model_mappings' });
        return after;
      });
      return mappingJson(row);
    },
  );

  app.delete(
    '/model-mappings/:model',
    { schema: { summary: 'Remove an admin mapping (the shipped default, if any, applies again)', params: ModelParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await deps.transact(auditContext(request), async (tx) => {
        const before = await tx.modelMappings.delete(request.params.model);
        if (!before) throw notFound('model mapping');
        await tx.audit({ action: 'model_mapping.delete', targetType: 'model_mapping', targetId: before.model, before: mappingJson(before), after: null });
        tx.changed({ topic: 'model_mappings' });
      });
      return reply.code(204).send(null);
    },
  );
}
