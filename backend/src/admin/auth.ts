import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createAdminTokenRepository, type AdminTokenRepository } from '../db/admin-token-repository.ts';
import type { ApiTokenRepository } from '../db/api-token-repository.ts';
import type { UserIdentityRepository } from '../db/user-identity-repository.ts';
import type { Logger } from '../observability/logger.ts';
import { signAdminToken, verifyAdminSession, type AdminSession, type Role } from '../security/jwt.ts';
import { hashApiToken, isApiTokenFormat } from '../security/api-token.ts';
import { verifyPassword } from '../security/passwords.ts';
import { auditContext } from './audit.ts';
import type { AddressFailures } from '../proxy/address-failures.ts';
import { AdminError, ErrorBody, unauthorized } from './errors.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { LoginBody, LoginResponse, NoContent, Session } from './schemas.ts';
import { clearedSessionCookie, readSessionCookie, sessionCookie } from './session-cookie.ts';
import type { Transact } from './transaction.ts';

export interface AuthDeps {
  admin: { username: string; passwordHash: string };
  jwtKey: Uint8Array;
  tokens: AdminTokenRepository;
  /** Automation tokens (`Authorization: Bearer ccp_…`, api-tokens.ts). */
  apiTokens: ApiTokenRepository;
  transact: Transact;
  loginLimiter: LoginLimiter;
  /** Requests without a valid token, per address (shared with the proxy's unknown keys). */
  addressFailures: AddressFailures;
  /** Origins other than the server's own that may call the API (CORS_ORIGINS). */
  corsOrigins: readonly string[];
  /** Whether a person's user has been deactivated or deleted since they signed in (deprovisioned). */
  userIdentities: Pick<UserIdentityRepository, 'personStanding'>;
  logger: Logger;
}

declare module 'fastify' {
  interface FastifyRequest {
    adminSession?: AdminSession;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() || undefined : undefined;
}

/**
 * A valid, unrevoked session: a JWT minted for the admin credentials this task runs with or for a
 * person the identity provider vouched for, or a live automation token (bearer only, never a cookie).
 */
async function currentSession(request: FastifyRequest, deps: Pick<AuthDeps, 'jwtKey' | 'tokens' | 'admin' | 'apiTokens' | 'logger'>): Promise<AdminSession | null> {
  const bearer = bearerToken(request);
  if (bearer && isApiTokenFormat(bearer)) return apiTokenSession(bearer, deps);
  const token = bearer ?? readSessionCookie(request.headers.cookie);
  const session = token ? await verifyAdminSession(deps.jwtKey, token, deps.admin) : null;
  if (!session || (await deps.tokens.isRevoked(session.id))) return null;
  return session;
}

async function apiTokenSession(raw: string, deps: Pick<AuthDeps, 'apiTokens' | 'logger'>): Promise<AdminSession | null> {
  const row = await deps.apiTokens.findUsable(hashApiToken(raw));
  if (!row || row.role === 'scim') return null; // a SCIM token opens /scim/v2 only (scim.ts)
  // "Last used" is for people tidying tokens up: a failed write must not fail the request.
  await deps.apiTokens.touch(row.id).catch((err: unknown) => deps.logger.warn({ err, tokenId: row.id }, 'api token last use not recorded'));
  const role: Role = row.role;
  return { username: `token:${row.name}`, id: row.id, issuedAt: row.createdAt, expiresAt: row.expiresAt, role, userId: null, via: 'token' };
}

/**
 * A person's session ends with their user: when the identity provider (SCIM) or an admin deletes the
 * user they are, or the user of their email, every task refuses the session at its next request (one
 * lookup per request, no cache to keep coherent). Deactivation ends an admin's or a viewer's session
 * the same way; a developer's keeps only their own page, which says why (me.ts answers 403).
 */
async function refuseDeprovisioned(session: AdminSession, identities: AuthDeps['userIdentities']): Promise<void> {
  if (session.via !== 'idp') return;
  const standing = await identities.personStanding({ userId: session.userId, email: session.username, since: session.issuedAt });
  if (standing === 'deleted') throw unauthorized(`session ended: the user of ${session.username} has been deleted (deprovisioned); this sign-in no longer counts`);
  if (standing === 'inactive' && session.role !== 'developer') {
    throw unauthorized(`session ended: the user of ${session.username} is deactivated (deprovisioned); sign in again once it is reactivated`);
  }
}

/**
 * A cookie is sent by the browser whoever made the page; SameSite=Strict keeps other sites out,
 * and this keeps out sibling subdomains (same site, other origin): a state-changing request that
 * authenticates by cookie must come from the server's own origin or an allowed one.
 */
function originAllowed(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (!origin) return true; // not a browser's cross-origin request
  return origin === `${request.protocol}://${request.host}` || allowed.includes(origin);
}

/** The onRequest hook of every admin route but login and logout. */
export function adminGuard(deps: Pick<AuthDeps, 'jwtKey' | 'tokens' | 'corsOrigins' | 'admin' | 'addressFailures' | 'apiTokens' | 'userIdentities' | 'logger'>) {
  return async (request: FastifyRequest): Promise<void> => {
    const session = await currentSession(request, deps);
    if (!session) {
      // A valid session works from any address; an address past its limit of bad tokens waits.
      const wait = deps.addressFailures.retryAfter(request.ip);
      if (wait > 0) throw new AdminError(429, 'rate_limit_error', `too many requests without a valid token from this address; retry in ${wait} s`);
      deps.addressFailures.failed(request.ip);
      throw unauthorized();
    }
    // A valid token of someone deprovisioned: refused, but not counted as a guess at a token.
    await refuseDeprovisioned(session, deps.userIdentities);
    if (!bearerToken(request) && !SAFE_METHODS.has(request.method) && !originAllowed(request, deps.corsOrigins)) {
      throw new AdminError(403, 'permission_error', 'origin: a cookie-authenticated change must come from the dashboard\'s own origin');
    }
    request.admin = session.username;
    request.adminSession = session;
  };
}

/** POST /auth/login and /auth/logout: outside the guard. */
export async function authRoutes(parent: FastifyInstance, deps: AuthDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/auth/login',
    {
      schema: {
        summary: 'Log in: a 12-hour token in the body (scripts) and in an HttpOnly session cookie (the dashboard)',
        body: LoginBody,
        response: { 200: LoginResponse, 429: { description: 'Too many login attempts from this address for this username, or from this address; see retry-after', ...ErrorBody } },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      // Counted before the password is checked: parallel guesses cannot all pass a count of failures.
      const wait = await deps.loginLimiter.reserve(request.ip, username);
      if (wait > 0) {
        return reply
          .code(429)
          .header('retry-after', String(wait))
          .send({ error: { type: 'rate_limit_error', message: `too many login attempts; try again in ${wait} s` } });
      }
      // Always hash, even for a wrong username, so timing does not tell which part was wrong.
      const passwordOk = await verifyPassword(password, deps.admin.passwordHash);
      if (!passwordOk || username !== deps.admin.username) {
        deps.logger.warn({ reqId: request.id, ip: request.ip }, 'admin login failed');
        throw unauthorized('invalid username or password');
      }
      await deps.loginLimiter.succeeded(request.ip, username);
      const session = await signAdminToken(deps.jwtKey, deps.admin);
      await deps.transact({ ...auditContext(request), actor: username }, (tx) =>
        tx.audit({
          action: 'auth.login',
          targetType: 'admin_session',
          targetId: session.id,
          before: null,
          after: { username, expires_at: session.expiresAt.toISOString() },
        }),
      );
      reply.header('set-cookie', sessionCookie(session.token, { maxAgeSeconds: (session.expiresAt.getTime() - Date.now()) / 1000, secure: request.protocol === 'https' }));
      return { access_token: session.token, token_type: 'bearer' as const, expires_at: session.expiresAt.toISOString() };
    },
  );

  app.post(
    '/auth/logout',
    { schema: { summary: 'End the session: its token stops working on every task, and the cookie is cleared', response: { 204: NoContent } } },
    async (request, reply) => {
      const session = await currentSession(request, deps);
      // An automation token is ended by revoking it (DELETE /admin/tokens/{id}), not by logging out.
      if (session && session.via !== 'token') {
        await deps.transact({ ...auditContext(request), actor: session.username }, async (tx) => {
          await createAdminTokenRepository(tx.db).revoke(session.id, session.expiresAt);
          await tx.audit({ action: 'auth.logout', targetType: 'admin_session', targetId: session.id, before: { username: session.username }, after: null });
        });
      }
      reply.header('set-cookie', clearedSessionCookie({ secure: request.protocol === 'https' }));
      return reply.code(204).send(null);
    },
  );
}

/** GET /auth/session: inside the guard (the dashboard asks whether its cookie is still good). */
export async function sessionRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/auth/session', { schema: { summary: 'The current session: who is signed in, their role and their user (null for the break-glass admin)', response: { 200: Session } } }, async (request) => {
    const session = request.adminSession!;
    return { username: session.username, role: session.role, user_id: session.userId, expires_at: session.expiresAt.toISOString() };
  });
}
