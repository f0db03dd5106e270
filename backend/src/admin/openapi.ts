import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { ErrorBody } from './errors.ts';
import { rolesOf, rolesSentence } from './roles.ts';
import { SESSION_COOKIE } from './session-cookie.ts';

/** Routes reachable without a session. */
const PUBLIC_ROUTES = new Set(['POST /admin/auth/login', 'POST /admin/auth/logout', 'GET /admin/auth/methods', 'GET /admin/auth/oidc/login', 'GET /admin/auth/oidc/callback']);

interface RouteSchema {
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  response?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * OpenAPI 3.1 for the admin API, generated from the TypeBox schemas the routes validate with (one
 * source of truth); the errors every route can give are added here rather than repeated on each.
 * Registered at the start of the admin scope, so it sees exactly the admin routes.
 */
export async function registerOpenApi(app: FastifyInstance, options: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Claude Code Proxy admin API',
        version: options.version,
        description:
          'Users, access keys, Bedrock keys, model mappings, circuit breakers and the audit log. Every change is audited. ' +
          'Authenticate with `Authorization: Bearer …`: an automation token (`ccp_…`, `POST /admin/tokens`) for scripts and CI, or the `access_token` of `POST /admin/auth/login`; ' +
          'the dashboard uses the HttpOnly session cookie that login and company sign-in set.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Either an automation token (`ccp_…`, made by an admin with `POST /admin/tokens`; acts with its role, never accepted as the cookie) or the 12-hour session token (a JWT) in the `access_token` of `POST /admin/auth/login`.',
          },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The dashboard\'s HttpOnly session cookie, set by the password login and by company sign-in' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform({ schema, url, route }) {
      const base = (schema ?? {}) as RouteSchema;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const isPublic = methods.every((m) => PUBLIC_ROUTES.has(`${m} ${url}`));
      const error = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });
      const errors: Record<string, unknown> = {};
      if (base.params || base.querystring || base.body) errors['400'] = error('Invalid request: the message names the field');
      if (!isPublic) errors['401'] = error('No valid admin session (missing, expired, tampered, revoked or logged-out token, or a person whose user has been deprovisioned)');
      if (base.params) errors['404'] = error('No such resource');
      const roles = isPublic ? undefined : rolesOf(methods[0]!, url, route.config);
      if (roles) errors['403'] = error('The signed-in role may not call this route (the message names the role)');
      const transformed: RouteSchema = { ...base, response: { ...errors, ...base.response } };
      if (isPublic) transformed.security = [];
      // Who may call it (roles.ts): `x-roles` for tools, a sentence for people.
      if (roles) {
        transformed['x-roles'] = [...roles];
        transformed.description = [typeof base.description === 'string' ? base.description : undefined, rolesSentence(roles)].filter(Boolean).join(' ');
      }
      return { schema: transformed as FastifySchema, url };
    },
  });
}
