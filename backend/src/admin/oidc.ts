import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT, createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Type } from 'typebox';
import { createUserIdentityRepository, type UserIdentityRepository } from '../db/user-identity-repository.ts';
import type { Logger } from '../observability/logger.ts';
import { signPersonToken, type Role } from '../security/jwt.ts';
import { auditContext } from './audit.ts';
import { AdminError } from './errors.ts';
import { sessionCookie } from './session-cookie.ts';
import type { Transact } from './transaction.ts';
import { isUniqueViolation, userJson } from './users.ts';

// Company sign-in (README "Sign-in and roles"): OpenID Connect authorization code flow with PKCE,
// state and nonce (openid-client does the checks). The person's role comes from a claim of their ID
// token; the session is the same JWT cookie the password login sets.

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  usernameClaim: string;
  roleClaim: string;
  adminValues: readonly string[];
  viewerValues: readonly string[];
  redirectUrl: string | undefined;
  /** OIDC_REQUIRE_VERIFIED_EMAIL: with usernameClaim `email`, an ID token saying `email_verified: false` is refused. */
  requireVerifiedEmail: boolean;
  selfEnrolment: boolean;
  /** What a self-enrolled user starts with (SELF_ENROLMENT_ROUTING, SELF_ENROLMENT_BUDGET). */
  enrolmentDefaults: { routingStrategy: 'plan_first' | 'bedrock_only' | 'plan_only'; monthlyBudgetUsd: string | null };
}

export interface OidcDeps {
  oidc: OidcSettings | null;
  jwtKey: Uint8Array;
  transact: Transact;
  users: UserIdentityRepository;
  logger: Logger;
}

/** The role a person's claim values give: admin before viewer; anyone else is a developer. */
export function roleFromClaim(value: unknown, settings: Pick<OidcSettings, 'adminValues' | 'viewerValues'>): Role {
  const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  if (values.some((v) => settings.adminValues.includes(v))) return 'admin';
  if (values.some((v) => settings.viewerValues.includes(v))) return 'viewer';
  return 'developer';
}

// The state, nonce and PKCE verifier of a sign-in in progress live in a short-lived signed cookie:
// nothing to store server-side, and only the browser that started the sign-in can finish it.
const FLOW_COOKIE = 'ccproxy_oidc_flow';
const FLOW_PATH = '/admin/auth/oidc';
const FLOW_AUDIENCE = 'claude-code-proxy-oidc-flow';
const FLOW_SECONDS = 600;

function flowCookie(value: string, maxAge: number, secure: boolean): string {
  // Lax, not Strict: the identity provider's redirect back is a cross-site navigation.
  return [`${FLOW_COOKIE}=${value}`, `Path=${FLOW_PATH}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])].join('; ');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

export async function oidcRoutes(parent: FastifyInstance, deps: OidcDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const settings = deps.oidc;
  let discovered: Promise<client.Configuration> | undefined;

  /** The issuer's metadata, fetched at the first sign-in (and again after a failure). */
  function configuration(s: OidcSettings): Promise<client.Configuration> {
    discovered ??= client
      .discovery(new URL(s.issuer), s.clientId, s.clientSecret, undefined, isLoopback(s.issuer) ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch((err: unknown) => {
        discovered = undefined;
        deps.logger.error({ err, issuer: s.issuer }, 'OpenID Connect discovery failed');
        throw new AdminError(503, 'api_error', `sign-in: the identity provider ${s.issuer} could not be reached`);
      });
    return discovered;
  }

  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const jwks = (config: client.Configuration) => {
    const uri = config.serverMetadata().jwks_uri;
    if (!uri) throw new Error('the issuer publishes no jwks_uri');
    keys ??= createRemoteJWKSet(new URL(uri));
    return keys;
  };

  const redirectUri = (s: OidcSettings, request: FastifyRequest) => s.redirectUrl ?? `${request.protocol}://${request.host}/admin/auth/oidc/callback`;

  function configured(): OidcSettings {
    if (!settings) throw new AdminError(404, 'not_found_error', 'company sign-in is not configured (OIDC_ISSUER)');
    return settings;
  }

  app.get(
    '/auth/methods',
    {
      schema: {
        summary: 'Whether company sign-in is offered (OIDC_ISSUER set), so the login page shows its button; the ADMIN_CREDENTIALS login always is',
        response: { 200: Type.Object({ oidc: Type.Union([Type.Object({ issuer: Type.String(), login_url: Type.String() }), Type.Null()]) }) },
      },
    },
    async () => ({ oidc: settings ? { issuer: settings.issuer, login_url: '/admin/auth/oidc/login' } : null }),
  );

  app.get(
    '/auth/oidc/login',
    {
      schema: {
        summary: 'Start company sign-in: redirects to the identity provider; `next`, a path of this site, is where the dashboard opens afterwards',
        querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
        response: { 302: Type.Null({ description: 'to the identity provider' }) },
      },
    },
    async (request, reply) => {
      const s = configured();
      const config = await configuration(s);
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const redirect_uri = redirectUri(s, request);
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri,
        scope: 'openid email profile',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const flow = await new SignJWT({ st: state, nn: nonce, cv: codeVerifier, ru: redirect_uri, nx: sitePath(request.query.next) })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(FLOW_AUDIENCE)
        .setExpirationTime(`${FLOW_SECONDS}s`)
        .sign(deps.jwtKey);
      reply.header('set-cookie', flowCookie(flow, FLOW_SECONDS, request.protocol === 'https'));
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/auth/oidc/callback',
    {
      schema: {
        summary: 'Where the identity provider sends the browser back: checks state, nonce, PKCE and the ID token, sets the session cookie and redirects to the dashboard',
        querystring: Type.Object({}, { additionalProperties: true }),
        response: { 302: Type.Null({ description: 'to the dashboard' }) },
      },
    },
    async (request, reply) => {
      try {
        return await completeSignIn(request, reply);
      } catch (err) {
        // The browser came back from the identity provider: it gets the dashboard's sign-in page with
        // the reason (README "Sign-in and roles"), not a page of JSON. API clients keep the JSON error.
        if (err instanceof AdminError && request.headers.accept?.includes('text/html')) {
          return reply.redirect(`/?sign_in_error=${encodeURIComponent(err.message)}`, 302);
        }
        throw err;
      }
    },
  );

  async function completeSignIn(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const s = configured();
    const flow = await readFlow(request, deps.jwtKey);
    const config = await configuration(s);
    const currentUrl = new URL(flow.ru);
    currentUrl.search = new URL(request.url, 'http://x').search;
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: flow.cv, expectedState: flow.st, expectedNonce: flow.nn, idTokenExpected: true });
      claims = tokens.claims();
      // openid-client trusts an ID token from the token endpoint without its signature (the
      // connection vouches for it); the proxy checks the signature against the issuer's keys too.
      await jwtVerify(tokens.id_token!, jwks(config), { issuer: config.serverMetadata().issuer, audience: s.clientId });
    } catch (err) {
      deps.logger.warn({ err, reqId: request.id }, 'OpenID Connect sign-in refused');
      throw new AdminError(401, 'authentication_error', `sign-in: ${refusal(err)}`);
    }
    const username = claims?.[s.usernameClaim];
    if (typeof username !== 'string' || !username) throw new AdminError(401, 'authentication_error', `sign-in: the ID token has no ${s.usernameClaim} claim (OIDC_USERNAME_CLAIM)`);
    // The email links the person to a user (and to their SCIM deprovisioning): one the provider has
    // not verified could be anyone's. Only an explicit "no" is refused; some providers never send the
    // claim, and some send it as a string.
    if (s.requireVerifiedEmail && s.usernameClaim === 'email' && (claims?.email_verified === false || claims?.email_verified === 'false')) {
      throw new AdminError(401, 'authentication_error', `sign-in: the identity provider has not verified the email ${username} (email_verified is false); verify it there, or set OIDC_REQUIRE_VERIFIED_EMAIL=false`);
    }
    const role = roleFromClaim(claims?.[s.roleClaim], s);
    const context = { ...auditContext(request), actor: username };
    const user = await deps.transact(context, async (tx) => {
      const linked = await createUserIdentityRepository(tx.db).findByEmail(username);
      // A deprovisioned person stays out, whatever their role (the guard ends a session begun before: auth.ts).
      if (linked && linked.status !== 'active') throw new AdminError(403, 'permission_error', `sign-in: the user with the email ${username} is ${linked.status}; ask an admin to reactivate it`);
      if (linked || role !== 'developer') return linked;
      if (!s.selfEnrolment) throw new AdminError(403, 'permission_error', `sign-in: there is no user with the email ${username}; ask an admin to add you (or to turn on SELF_ENROLMENT)`);
      const enrolled = await createUserIdentityRepository(tx.db)
        .enrol(username, s.enrolmentDefaults)
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) throw new AdminError(409, 'conflict_error', `sign-in: a user named ${username} exists without that email; ask an admin to set its email`);
          throw err;
        });
      await tx.audit({ action: 'user.enrol', targetType: 'user', targetId: enrolled.id, before: null, after: userJson(enrolled) });
      return enrolled;
    });
    const session = await signPersonToken(deps.jwtKey, { username, role, userId: user?.id ?? null });
    await deps.transact(context, (tx) =>
      tx.audit({ action: 'auth.login', targetType: 'admin_session', targetId: session.id, before: null, after: { username, role, user_id: user?.id ?? null, via: 'oidc', expires_at: session.expiresAt.toISOString() } }),
    );
    const secure = request.protocol === 'https';
    reply.header('set-cookie', [sessionCookie(session.token, { maxAgeSeconds: (session.expiresAt.getTime() - Date.now()) / 1000, secure }), flowCookie('', 0, secure)]);
    return reply.redirect(flow.nx, 302);
  }
}

/** What was wrong, in words: openid-client's message with the check that failed, or the provider's OAuth error. */
function refusal(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: unknown }; error?: unknown; error_description?: unknown };
  const parts = [e.message ?? String(err)];
  if (typeof e.error === 'string') parts.push(typeof e.error_description === 'string' ? `${e.error} (${e.error_description})` : e.error);
  else if (typeof e.cause?.message === 'string') parts.push(e.cause.message);
  return parts.join(': ');
}

/** A path on this site to open after sign-in, never another origin ("//evil.example", "https://…"): else `/`. */
export function sitePath(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\u0000-\u001f]/.test(next)) return '/';
  return next;
}

async function readFlow(request: FastifyRequest, key: Uint8Array): Promise<{ st: string; nn: string; cv: string; ru: string; nx: string }> {
  const raw = readCookie(request.headers.cookie, FLOW_COOKIE);
  try {
    if (!raw) throw new Error('no cookie');
    const { payload } = await jwtVerify(raw, key, { algorithms: ['HS256'], audience: FLOW_AUDIENCE });
    const { st, nn, cv, ru, nx } = payload;
    if (typeof st === 'string' && typeof nn === 'string' && typeof cv === 'string' && typeof ru === 'string') return { st, nn, cv, ru, nx: sitePath(typeof nx === 'string' ? nx : undefined) };
  } catch {
    /* answered below */
  }
  throw new AdminError(400, 'invalid_request_error', 'sign-in: no sign-in in progress in this browser, or it took longer than 10 minutes; start again');
}
