import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AccessKeyRow } from '../db/access-key-repository.ts';
import type { UserRow } from '../db/user-repository.ts';
import { issueAccessKey, keyJson, listAccessKeys, revokeAccessKey, rotateAccessKey } from './access-keys.ts';
import { auditContext } from './audit.ts';
import { bedrockKeyStatus, deleteBedrockKey, setBedrockKey } from './bedrock-keys.ts';
import { budgetStatus } from './budgets.ts';
import { AdminError, ErrorBody, notFound } from './errors.ts';
import { planWindowsOf } from './plan-windows.ts';
import type { AdminDeps } from './plugin.ts';
import { ALL, type Role } from './roles.ts';
import {
  AccessKeyList,
  BedrockKeyStatus,
  BudgetStatus,
  IdParams,
  IssueKeyBody,
  IssuedKey,
  NoContent,
  PlanWindowList,
  PutBedrockKeyBody,
  RotatedKey,
  UsageQuery,
  UsageReport,
  User,
} from './schemas.ts';
import { usageReport } from './usage.ts';
import { userJson } from './users.ts';

// A signed-in person's own things (README "Sign-in and roles"): their user, keys, Bedrock keys, usage,
// budget and Plan window. Each route acts on the session's user only; another user's key is "not
// found" (its existence is not told). The actions are the admin routes' own (access-keys.ts,
// bedrock-keys.ts, usage.ts, budgets.ts, plan-windows.ts).

/** Changes: not for viewers (read-only everywhere). */
const CHANGE: readonly Role[] = ['admin', 'developer'];

const MeUsageQuery = Type.Omit(UsageQuery, ['user_id'], { additionalProperties: false });

export async function meRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  /** The session's user (404 when the session is not a user's, e.g. the break-glass admin). */
  async function me(request: FastifyRequest): Promise<UserRow> {
    const userId = request.adminSession?.userId;
    const row = userId ? await deps.users.get(userId) : null;
    if (!row) throw new AdminError(404, 'not_found_error', 'this session is not linked to a user (sign in with the identity provider as a user)');
    // A deactivated person (an admin's or the identity provider's doing) keeps no self-service.
    if (row.status !== 'active') throw new AdminError(403, 'permission_error', `your user is ${row.status}; ask an admin`);
    return row;
  }

  /** One of the session user's keys, or 404 (another user's key is not found either). */
  async function myKey(request: FastifyRequest, id: string): Promise<AccessKeyRow> {
    const user = await me(request);
    const key = await deps.accessKeys.get(id);
    if (!key || key.userId !== user.id) throw notFound('access key');
    return key;
  }

  // The most keys this session may hold, so the page can say "2 of 3" before the 409 does.
  const MyUser = Type.Object({
    ...User.properties,
    max_live_keys: Type.Union([Type.Integer(), Type.Null()], { description: 'DEVELOPER_MAX_KEYS for a developer; null: no maximum (admin, viewer)' }),
  });
  app.get('/me', { config: { roles: ALL }, schema: { summary: 'My user, and how many unrevoked keys I may hold', response: { 200: MyUser } } }, async (request) => ({
    ...userJson(await me(request)),
    max_live_keys: request.adminSession?.role === 'developer' ? deps.developerMaxKeys : null,
  }));

  app.get(
    '/me/access-keys',
    { config: { roles: ALL }, schema: { summary: 'My access keys, newest first (never the keys themselves), with their Bedrock key status', response: { 200: AccessKeyList } } },
    async (request) => ({ items: await listAccessKeys(deps, (await me(request)).id) }),
  );

  app.post(
    '/me/access-keys',
    {
      config: { roles: CHANGE },
      schema: {
        summary: 'Issue myself an access key (a developer holds at most DEVELOPER_MAX_KEYS unrevoked keys); the raw key is in this response only',
        body: Type.Optional(IssueKeyBody),
        response: { 201: IssuedKey, 409: { description: 'I already hold DEVELOPER_MAX_KEYS unrevoked keys', ...ErrorBody } },
      },
    },
    async (request, reply) => {
      const user = await me(request);
      const limit = request.adminSession?.role === 'developer' ? { maxLiveKeys: deps.developerMaxKeys } : {};
      const { row, rawKey } = await issueAccessKey(deps, auditContext(request), user.id, request.body?.bedrock_region ?? null, limit);
      return reply.code(201).send({ ...keyJson(row, false), raw_key: rawKey });
    },
  );

  app.post(
    '/me/access-keys/:id/rotate',
    { config: { roles: CHANGE }, schema: { summary: 'Rotate one of my keys (the new raw key is in this response only)', params: IdParams, response: { 201: RotatedKey } } },
    async (request, reply) => reply.code(201).send(await rotateAccessKey(deps, auditContext(request), await myKey(request, request.params.id))),
  );

  app.delete(
    '/me/access-keys/:id',
    { config: { roles: CHANGE }, schema: { summary: 'Revoke one of my keys (and erase its Bedrock key)', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const key = await myKey(request, request.params.id);
      const hasBedrockKey = (await deps.bedrockKeys.configured([key.id])).has(key.id);
      await revokeAccessKey(deps, auditContext(request), key, hasBedrockKey);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/me/access-keys/:id/bedrock-key',
    {
      config: { roles: CHANGE },
      schema: { summary: 'Register or replace the Bedrock API key of one of my keys (never shown again)', params: IdParams, body: PutBedrockKeyBody, response: { 200: BedrockKeyStatus } },
    },
    async (request) => setBedrockKey(deps, auditContext(request), await myKey(request, request.params.id), request.body.bedrock_api_key),
  );

  app.get(
    '/me/access-keys/:id/bedrock-key',
    { config: { roles: ALL }, schema: { summary: 'Whether one of my keys has a Bedrock key: last four characters and dates', params: IdParams, response: { 200: BedrockKeyStatus } } },
    async (request) => bedrockKeyStatus(deps, await myKey(request, request.params.id)),
  );

  app.delete(
    '/me/access-keys/:id/bedrock-key',
    { config: { roles: CHANGE }, schema: { summary: 'Remove the Bedrock key of one of my keys', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await deleteBedrockKey(deps, auditContext(request), await myKey(request, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/usage',
    { config: { roles: ALL }, schema: { summary: 'My usage and cost per bucket (the same report as GET /admin/usage, for my user only)', querystring: MeUsageQuery, response: { 200: UsageReport } } },
    async (request) => usageReport(deps, { ...request.query, user_id: (await me(request)).id }),
  );

  app.get(
    '/me/budget',
    { config: { roles: ALL }, schema: { summary: "My monthly Bedrock budget and this month's spend", response: { 200: BudgetStatus } } },
    async (request) => budgetStatus(deps, (await me(request)).id),
  );

  app.get(
    '/me/plan-windows',
    { config: { roles: ALL }, schema: { summary: 'The Plan window of each of my keys that has a reading', response: { 200: PlanWindowList } } },
    async (request) => ({ items: await planWindowsOf(deps, (await me(request)).id), server_threshold: deps.planSwitchThreshold, timezone: deps.accounting.timeZone }),
  );
}
