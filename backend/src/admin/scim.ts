import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ApiTokenRepository } from '../db/api-token-repository.ts';
import { createUserIdentityRepository, type UserIdentityRepository } from '../db/user-identity-repository.ts';
import type { UserRow } from '../db/user-repository.ts';
import type { Logger } from '../observability/logger.ts';
import { hashApiToken, isApiTokenFormat } from '../security/api-token.ts';
import { auditContext } from './audit.ts';
import { AdminError, notFound } from './errors.ts';
import type { Transact } from './transaction.ts';
import { deleteUser, isUniqueViolation, setUserStatus, userJson } from './users.ts';

// SCIM 2.0 Users (RFC 7643/7644, the part identity providers use to provision and deprovision;
// README "Sign-in and roles"): a SCIM user is a proxy user whose userName is their email. Setting
// `active: false` deactivates the user, and deleting them revokes every key, on every task within a
// notification (the admin routes' own actions, users.ts); the person's dashboard session ends with
// their user too (the admin guard looks the user up on each request, auth.ts). Authenticated by an
// automation token of kind `scim`, and by nothing else.

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = 'application/scim+json';

export interface ScimDeps {
  apiTokens: ApiTokenRepository;
  transact: Transact;
  identities: UserIdentityRepository;
  users: { get(id: string): Promise<UserRow | null> };
  logger: Logger;
}

const ScimName = Type.Object({ formatted: Type.Optional(Type.String()), givenName: Type.Optional(Type.String()), familyName: Type.Optional(Type.String()) });
/** What POST and PUT take (other attributes an identity provider sends are ignored). */
const ScimUserBody = Type.Object({
  userName: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }),
  displayName: Type.Optional(Type.String({ maxLength: 200 })),
  name: Type.Optional(ScimName),
  active: Type.Optional(Type.Union([Type.Boolean(), Type.Enum(['true', 'false', 'True', 'False'])])),
});
const PatchBody = Type.Object({
  Operations: Type.Array(
    Type.Object({ op: Type.String(), path: Type.Optional(Type.String()), value: Type.Optional(Type.Unknown()) }),
    { minItems: 1, maxItems: 50 },
  ),
});
const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 400 })),
  startIndex: Type.Optional(Type.Integer({ minimum: 1 })),
  count: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
});

class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function scimUser(row: UserRow) {
  return {
    schemas: [USER_SCHEMA],
    id: row.id,
    userName: row.email ?? row.name,
    displayName: row.name,
    name: { formatted: row.name },
    emails: row.email ? [{ value: row.email, primary: true }] : [],
    active: row.status === 'active',
    meta: { resourceType: 'User', created: row.createdAt.toISOString(), lastModified: row.updatedAt.toISOString(), location: `/scim/v2/Users/${row.id}` },
  };
}

const truthy = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : typeof value === 'string' ? value.toLowerCase() === 'true' : undefined);

/** What a PUT or PATCH asks to change. */
interface Changes {
  active?: boolean;
  userName?: string;
  displayName?: string;
}

/** PATCH operations (`replace`/`add` of active, userName, displayName, or of an object of them) as changes. */
function patchChanges(operations: Static<typeof PatchBody>['Operations']): Changes {
  const changes: Changes = {};
  const apply = (path: string, value: unknown) => {
    if (path === 'active') changes.active = truthy(value);
    else if (path === 'userName' && typeof value === 'string') changes.userName = value;
    else if (path === 'displayName' && typeof value === 'string') changes.displayName = value;
    else if (!['name.formatted', 'name.givenName', 'name.familyName', 'emails', 'externalId'].includes(path)) throw new ScimError(400, `${path}: cannot be changed here`, 'invalidPath');
  };
  for (const op of operations) {
    if (!['replace', 'add'].includes(op.op.toLowerCase())) throw new ScimError(400, `op: ${op.op} is not supported (replace, add)`, 'invalidSyntax');
    if (op.path) apply(op.path, op.value);
    else if (op.value && typeof op.value === 'object') for (const [k, v] of Object.entries(op.value)) apply(k, v);
  }
  return changes;
}

export async function scimPlugin(parent: FastifyInstance, deps: ScimDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err: FastifyError | ScimError | AdminError, request, reply) => sendScimError(reply, err, request, deps.logger));
  app.addContentTypeParser(SCIM_JSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const raw = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const row = isApiTokenFormat(raw) ? await deps.apiTokens.findUsable(hashApiToken(raw)) : null;
    if (!row || row.role !== 'scim') throw new ScimError(401, 'a valid SCIM token (an automation token of kind scim) is required');
    await deps.apiTokens.touch(row.id).catch((err: unknown) => deps.logger.warn({ err, tokenId: row.id }, 'api token last use not recorded'));
    request.admin = `token:${row.name}`; // the audit log's actor
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-type', SCIM_JSON);
    return payload;
  });

  async function load(id: string): Promise<UserRow> {
    const row = UUID.test(id) ? await deps.users.get(id) : null;
    if (!row) throw new ScimError(404, `user ${id} not found`);
    return row;
  }

  /** Applies changes with the admin routes' actions (each audited, each told to every task). */
  async function update(request: FastifyRequest, row: UserRow, changes: Changes): Promise<UserRow> {
    const context = auditContext(request);
    const email = changes.userName?.trim();
    const name = changes.displayName?.trim();
    if ((email && email.toLowerCase() !== row.email?.toLowerCase()) || (name && name !== row.name)) {
      await deps.transact(context, async (tx) => {
        const before = await tx.users.get(row.id);
        if (!before) throw notFound('user');
        let after = email ? await createUserIdentityRepository(tx.db).setEmail(row.id, email) : before;
        if (name && after) after = await tx.users.update(row.id, { name });
        if (!after) throw notFound('user');
        await tx.audit({ action: 'user.update', targetType: 'user', targetId: row.id, before: userJson(before), after: userJson(after) });
        tx.changed({ topic: 'user', id: row.id });
      }).catch(conflict);
    }
    if (changes.active === false && row.status === 'active') await setUserStatus(deps, context, row.id, 'deactivate', 'active', 'inactive');
    if (changes.active === true && row.status === 'inactive') await setUserStatus(deps, context, row.id, 'reactivate', 'inactive', 'active');
    return load(row.id);
  }

  app.get('/Users', { schema: { querystring: ListQuery } }, async (request) => {
    const { filter, startIndex = 1, count = 100 } = request.query;
    let items: UserRow[];
    let total: number;
    if (filter) {
      const m = /^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
      if (!m) throw new ScimError(400, 'filter: only userName eq "…" is supported', 'invalidFilter');
      const row = await deps.identities.findByEmail(m[1]!.replace(/\\(.)/g, '$1'));
      items = row ? [row] : [];
      total = items.length;
    } else {
      ({ items, total } = await deps.identities.listWithEmail({ offset: startIndex - 1, limit: count }));
    }
    return { schemas: [LIST_SCHEMA], totalResults: total, startIndex, itemsPerPage: items.length, Resources: items.map(scimUser) };
  });

  app.get('/Users/:id', { schema: { params: IdParams } }, async (request) => scimUser(await load(request.params.id)));

  app.post('/Users', { schema: { body: ScimUserBody } }, async (request, reply) => {
    const body = request.body;
    const email = body.userName.trim();
    if (await deps.identities.findByEmail(email)) throw new ScimError(409, `userName: a user with ${email} exists`, 'uniqueness');
    const name = (body.displayName ?? body.name?.formatted ?? [body.name?.givenName, body.name?.familyName].filter(Boolean).join(' ')).trim() || email;
    const active = truthy(body.active) ?? true;
    const row = await deps
      .transact(auditContext(request), async (tx) => {
        const created = await tx.users.create({ name, description: 'provisioned by SCIM' });
        const linked = (await createUserIdentityRepository(tx.db).setEmail(created.id, email)) ?? created;
        const after = active ? linked : ((await tx.users.setStatus(created.id, 'active', 'inactive')) ?? linked);
        await tx.audit({ action: 'user.create', targetType: 'user', targetId: created.id, before: null, after: userJson(after) });
        return after;
      })
      .catch(conflict);
    return reply.code(201).header('location', `/scim/v2/Users/${row.id}`).send(scimUser(row));
  });

  app.put('/Users/:id', { schema: { params: IdParams, body: ScimUserBody } }, async (request) => {
    const row = await load(request.params.id);
    const body = request.body;
    return scimUser(await update(request, row, { userName: body.userName, displayName: body.displayName ?? body.name?.formatted, active: truthy(body.active) ?? true }));
  });

  app.patch('/Users/:id', { schema: { params: IdParams, body: PatchBody } }, async (request) => {
    const row = await load(request.params.id);
    return scimUser(await update(request, row, patchChanges(request.body.Operations)));
  });

  app.delete('/Users/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await load(request.params.id);
    await deleteUser(deps, auditContext(request), row.id);
    return reply.code(204).send();
  });
}

function conflict(err: unknown): never {
  if (isUniqueViolation(err)) throw new ScimError(409, 'userName or displayName: another user already has it', 'uniqueness');
  throw err;
}

function sendScimError(reply: FastifyReply, err: FastifyError | ScimError | AdminError, request: FastifyRequest, logger: Logger): FastifyReply {
  let status = 500;
  let detail = 'internal error';
  let scimType: string | undefined;
  if (err instanceof ScimError) ({ status, message: detail, scimType } = err);
  else if (err instanceof AdminError) ({ status, message: detail } = err);
  else if ((err as FastifyError).validation) {
    status = 400;
    detail = `${(err as FastifyError).validationContext ?? 'body'}: ${err.message}`;
    scimType = 'invalidValue';
  } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
    status = (err as FastifyError).statusCode!;
    detail = err.message;
  } else logger.error({ err, reqId: request.id }, 'scim request failed');
  return reply.code(status).send({ schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail });
}

