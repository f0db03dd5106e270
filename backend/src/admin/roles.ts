import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Role } from '../security/jwt.ts';
import { AdminError } from './errors.ts';

export type { Role } from '../security/jwt.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The roles that may call the route (README "Sign-in and roles"); every guarded route has them. */
    roles?: readonly Role[];
  }
}

export const ALL: readonly Role[] = ['admin', 'viewer', 'developer'];
export const READ: readonly Role[] = ['admin', 'viewer'];
export const ADMIN: readonly Role[] = ['admin'];

/**
 * The roles of the routes that do not declare theirs in `config.roles` (the ones written before
 * roles existed), in one place so the whole policy reads at a glance. Viewers read usage, users,
 * audit, requests, pricing, mappings, breakers and Plan windows; access keys and Bedrock keys (key
 * material: prefixes, last four) and every change are the admin's.
 */
const ROUTE_ROLES: Readonly<Record<string, readonly Role[]>> = {
  'GET /admin/auth/session': ALL,
  'GET /admin/openapi.json': ALL,
  'POST /admin/users': ADMIN,
  'GET /admin/users': READ,
  'GET /admin/users/:id': READ,
  'PATCH /admin/users/:id': ADMIN,
  'DELETE /admin/users/:id': ADMIN,
  'POST /admin/users/:id/deactivate': ADMIN,
  'POST /admin/users/:id/reactivate': ADMIN,
  'POST /admin/users/:id/access-keys': ADMIN,
  'GET /admin/users/:id/access-keys': ADMIN,
  'GET /admin/access-keys/:id': ADMIN,
  'PATCH /admin/access-keys/:id': ADMIN,
  'DELETE /admin/access-keys/:id': ADMIN,
  'POST /admin/access-keys/:id/rotate': ADMIN,
  'PUT /admin/access-keys/:id/bedrock-key': ADMIN,
  'GET /admin/access-keys/:id/bedrock-key': ADMIN,
  'DELETE /admin/access-keys/:id/bedrock-key': ADMIN,
  'GET /admin/users/:id/budget': READ,
  'PUT /admin/users/:id/budget': ADMIN,
  'GET /admin/users/:id/limits': READ,
  'PUT /admin/users/:id/limits': ADMIN,
  'GET /admin/users/:id/plan': READ,
  'PUT /admin/users/:id/plan': ADMIN,
  'GET /admin/circuit-breakers': READ,
  'GET /admin/circuit-breakers/:id': READ,
  'POST /admin/circuit-breakers/:id/reset': ADMIN,
  'GET /admin/fallback-readiness': READ,
  'GET /admin/plan-windows': READ,
  'GET /admin/model-mappings': READ,
  'PUT /admin/model-mappings/:model': ADMIN,
  'DELETE /admin/model-mappings/:model': ADMIN,
  'GET /admin/audit-log': READ,
  'GET /admin/usage': READ,
  'GET /admin/usage/top-users': READ,
  'GET /admin/usage.csv': READ,
  'GET /admin/usage/top-users.csv': READ,
  'GET /admin/usage/cost-breakdown.csv': READ,
  'GET /admin/usage/cost-breakdown': READ,
  'GET /admin/usage/errors': READ,
  'GET /admin/usage/fallbacks': READ,
  'GET /admin/usage/plan': READ,
  'GET /admin/requests': READ,
  'GET /admin/requests.csv': READ,
  'GET /admin/pricing': READ,
  'POST /admin/pricing': ADMIN,
  'DELETE /admin/pricing/:id': ADMIN,
};

/** A route's roles: its own `config.roles`, else the table's; undefined when neither says. */
export function rolesOf(method: string, url: string, config: { roles?: readonly Role[] } | undefined): readonly Role[] | undefined {
  if (config?.roles) return config.roles;
  // Fastify adds a HEAD route for every GET: it answers what the GET answers.
  return ROUTE_ROLES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

/**
 * onRoute hook of the guarded scope: a route that does not say who may call it stops the server
 * from starting (so none is forgotten, and none is open to every role by default).
 */
export function declareRoles(routeOptions: RouteOptions): void {
  const methods = Array.isArray(routeOptions.method) ? routeOptions.method : [routeOptions.method];
  const url = routeOptions.url;
  let roles: readonly Role[] | undefined;
  for (const method of methods) {
    const found = rolesOf(method, url, routeOptions.config);
    if (!found) throw new Error(`admin route ${method} ${url} declares no roles: add config: { roles } to it (admin/roles.ts)`);
    roles = found;
  }
  routeOptions.config = { ...routeOptions.config, roles };
}

/** onRequest hook after the guard: the signed-in role must be one the route allows. */
export async function requireRole(request: FastifyRequest): Promise<void> {
  const role = request.adminSession?.role;
  const allowed = request.routeOptions.config.roles;
  if (!role || !allowed) throw new AdminError(403, 'permission_error', 'this route declares no roles');
  if (!allowed.includes(role)) {
    throw new AdminError(403, 'permission_error', `role ${role} may not ${request.method} ${request.routeOptions.url}; it is for: ${allowed.join(', ')}`);
  }
}

/** Wires both hooks into the guarded scope (register it before any route of that scope). */
export function enforceRoles(scope: FastifyInstance): void {
  scope.addHook('onRoute', declareRoles);
  scope.addHook('onRequest', requireRole);
}

/** One sentence for the OpenAPI description. */
export function rolesSentence(roles: readonly Role[]): string {
  return `Roles: ${roles.join(', ')}.`;
}
