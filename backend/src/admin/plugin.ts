import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AccessKeyRepository } from '../db/access-key-repository.ts';
import type { AdminTokenRepository } from '../db/admin-token-repository.ts';
import type { ApiTokenRepository } from '../db/api-token-repository.ts';
import type { AuditRepository } from '../db/audit-repository.ts';
import type { BedrockKeyRepository } from '../db/bedrock-key-repository.ts';
import type { ModelMappingRepository } from '../db/model-mapping-repository.ts';
import type { UserIdentityRepository } from '../db/user-identity-repository.ts';
import type { UserRepository } from '../db/user-repository.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessKeyResolver } from '../proxy/access-keys.ts';
import type { Envelope } from '../security/envelope.ts';
import type { AccountingServices } from '../usage/accounting-services.ts';
import { accessKeyRoutes } from './access-keys.ts';
import { apiTokenRoutes } from './api-tokens.ts';
import { auditLogRoutes } from './audit-log.ts';
import { adminGuard, authRoutes, sessionRoutes } from './auth.ts';
import { bedrockKeyRoutes } from './bedrock-keys.ts';
import { budgetRoutes } from './budgets.ts';
import { limitRoutes } from './limits.ts';
import type { CircuitBreakers } from '../proxy/circuit-breaker.ts';
import type { AddressFailures } from '../proxy/address-failures.ts';
import type { PlanWindows } from '../proxy/plan-windows.ts';
import { circuitBreakerRoutes } from './circuit-breakers.ts';
import { fallbackReadinessRoutes } from './fallback-readiness.ts';
import { planWindowRoutes } from './plan-windows.ts';
import { AdminError } from './errors.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { meRoutes } from './me.ts';
import { oidcRoutes, type OidcSettings } from './oidc.ts';
import { modelMappingRoutes } from './model-mappings.ts';
import { pricingRoutes } from './pricing.ts';
import { registerOpenApi } from './openapi.ts';
import { requestRoutes } from './requests.ts';
import { enforceRoles } from './roles.ts';
import { SINGLE_LINE_PATTERN, TEXT_PATTERN } from './schemas.ts';
import type { Transact } from './transaction.ts';
import { usageRoutes } from './usage.ts';
import { userEmailRoutes } from './user-emails.ts';
import { userRoutes } from './users.ts';

export interface AdminDeps {
  users: UserRepository;
  accessKeys: AccessKeyRepository;
  resolver: AccessKeyResolver;
  bedrockKeys: BedrockKeyRepository;
  /** Encrypts a Bedrock key for its access key before it is stored (and re-encrypts it for a rotated key). */
  envelope: Pick<Envelope, 'encrypt' | 'decrypt'>;
  /** The proxy's decrypted-key cache (proxy/bedrock-keys.ts): told at once about every change. */
  bedrockKeyCache: { invalidate(accessKeyId: string): void };
  breakers: CircuitBreakers;
  /** BEDROCK_AUTH: with `sigv4` no access key needs a Bedrock key of its own. */
  bedrockAuth: 'bearer' | 'sigv4';
  /** Each access key's last Plan reading (proxy/plan-windows.ts) and the server's PLAN_SWITCH_THRESHOLD. */
  planWindows: Pick<PlanWindows, 'list'>;
  planSwitchThreshold: number;
  hashKey: (raw: string) => string;
  admin: { username: string; passwordHash: string };
  jwtKey: Uint8Array;
  /** Admin login attempts, shared by every task (login-limiter.ts). */
  loginLimiter: LoginLimiter;
  /** Requests without a valid token per address (proxy/address-failures.ts, shared with the proxy). */
  addressFailures: AddressFailures;
  logger: Logger;
  /** Runs a change with its audit entry and cross-process cache news in one transaction (transaction.ts). */
  transact: Transact;
  audit: AuditRepository;
  /** Admin tokens ended by logout. */
  tokens: AdminTokenRepository;
  /** Automation tokens (api-tokens.ts). */
  apiTokens: ApiTokenRepository;
  modelMappings: ModelMappingRepository;
  /** How long a rotated access key keeps working (KEY_ROTATION_GRACE). */
  keyRotationGraceMs: number;
  /** Browser origins other than the server's own allowed to call the API (CORS_ORIGINS). */
  corsOrigins: readonly string[];
  /** Shown in the OpenAPI document. */
  version: string;
  /** Prices, usage reports and budgets (usage.ts, pricing.ts, budgets.ts). */
  accounting: AccountingServices;
  /** DEVELOPER_MAX_KEYS: unrevoked keys a developer may issue themselves (me.ts). */
  developerMaxKeys: number;
  /** Company sign-in (oidc.ts); null: only the password account. */
  oidc: OidcSettings | null;
  userIdentities: UserIdentityRepository;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin?: string;
  }
}

/** /admin: login in the open, everything else behind the bearer token; JSON errors only. */
export async function adminPlugin(parent: FastifyInstance, options: AdminDeps & { prefix?: string }): Promise<void> {
  const { prefix: _prefix, ...deps } = options; // the prefix applies here only, not again to the nested plugins
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err: FastifyError, request, reply) => sendAdminError(reply, err, request, deps.logger));
  // Answers carry raw access keys, tokens and users' data: no cache (browser, proxy) may keep any.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  // `curl -X POST -H 'content-type: application/json'` on a body-less action (rotate, deactivate,
  // logout…) sends an empty body, which Fastify's JSON parser refuses: read it as no body, and let
  // each route's schema decide whether it needs one. Anything else goes to Fastify's own parser
  // (which also refuses __proto__ and constructor keys).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString(); // a string: parseAs says so, the type does not
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });
  // First, so the document sees every admin route registered after it (and nothing else).
  await registerOpenApi(app, { version: deps.version });
  // No CORS_ORIGINS: same origin only (no CORS headers at all, preflights get 404).
  if (deps.corsOrigins.length) {
    await app.register(cors, { origin: [...deps.corsOrigins], credentials: true, methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], maxAge: 600 });
  }

  await app.register(authRoutes, deps);
  await app.register(oidcRoutes, { oidc: deps.oidc, jwtKey: deps.jwtKey, transact: deps.transact, users: deps.userIdentities, logger: deps.logger });

  await app.register(async (guarded) => {
    guarded.addHook('onRequest', adminGuard(deps));
    enforceRoles(guarded); // after the guard: the role is the session's
    await guarded.register(sessionRoutes);
    guarded.get(
      '/openapi.json',
      { schema: { summary: 'This document (OpenAPI 3.1)', response: { 200: Type.Unknown({ description: 'the OpenAPI 3.1 document' }) } } },
      async () => guarded.swagger(),
    );
    await guarded.register(userRoutes, deps);
    await guarded.register(accessKeyRoutes, deps);
    await guarded.register(bedrockKeyRoutes, deps);
    await guarded.register(circuitBreakerRoutes, deps);
    await guarded.register(fallbackReadinessRoutes, deps);
    await guarded.register(planWindowRoutes, deps);
    await guarded.register(modelMappingRoutes, deps);
    await guarded.register(auditLogRoutes, deps);
    await guarded.register(usageRoutes, deps);
    await guarded.register(requestRoutes, deps);
    await guarded.register(pricingRoutes, deps);
    await guarded.register(budgetRoutes, deps);
    await guarded.register(limitRoutes, deps);
    await guarded.register(meRoutes, deps);
    await guarded.register(apiTokenRoutes, deps);
    await guarded.register(userEmailRoutes, deps);
  });
}

function sendAdminError(reply: FastifyReply, err: FastifyError | AdminError, request: FastifyRequest, logger: Logger): FastifyReply {
  let status: number;
  let type: string;
  let message: string;
  if (err instanceof AdminError) {
    ({ status, type, message } = err);
  } else if ((err as FastifyError).validation) {
    status = 400;
    type = 'invalid_request_error';
    message = validationMessage(err as FastifyError);
  } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
    status = (err as FastifyError).statusCode!;
    type = 'invalid_request_error';
    message = err.message;
  } else {
    status = 500;
    type = 'api_error';
    message = 'internal error';
    logger.error({ err, reqId: request.id }, 'admin request failed');
  }
  return reply.code(status).type('application/json').send({ error: { type, message } });
}

/** "name: must NOT have fewer than 1 characters" — the field first, as the client named it. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const params = first.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; pattern?: string };
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = params.missingProperty ?? params.additionalProperty ?? (path || err.validationContext || 'body');
  if (params.missingProperty) return `${field}: is required`;
  if (params.additionalProperty) return `${field}: is not a known field`;
  if (params.allowedValues) return `${field}: must be one of ${params.allowedValues.join(', ')}`;
  if (params.pattern === SINGLE_LINE_PATTERN) return `${field}: must not contain control characters (such as NUL or a newline)`;
  if (params.pattern === TEXT_PATTERN) return `${field}: must not contain control characters other than tab and newline (such as NUL)`;
  return `${field}: ${first.message ?? 'is invalid'}`;
}
