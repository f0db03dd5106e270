import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessKeyRepository } from '../db/access-key-repository.ts';
import type { BedrockKeyRepository } from '../db/bedrock-key-repository.ts';
import type { UserRepository } from '../db/user-repository.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccessKeyResolver } from '../proxy/access-keys.ts';
import type { Envelope } from '../security/envelope.ts';
import { signAdminToken, verifyAdminToken } from '../security/jwt.ts';
import { verifyPassword } from '../security/passwords.ts';
import { accessKeyRoutes } from './access-keys.ts';
import { bedrockKeyRoutes } from './bedrock-keys.ts';
import type { CircuitBreakers } from '../proxy/circuit-breaker.ts';
import { circuitBreakerRoutes } from './circuit-breakers.ts';
import { AdminError, unauthorized } from './errors.ts';
import { LoginBody, LoginResponse } from './schemas.ts';
import { userRoutes } from './users.ts';

export interface AdminDeps {
  users: UserRepository;
  accessKeys: AccessKeyRepository;
  resolver: AccessKeyResolver;
  bedrockKeys: BedrockKeyRepository;
  /** Encrypts a Bedrock key for its access key before it is stored. */
  envelope: Pick<Envelope, 'encrypt'>;
  /** The proxy's decrypted-key cache (proxy/bedrock-keys.ts): told at once about every change. */
  bedrockKeyCache: { invalidate(accessKeyId: string): void };
  breakers: CircuitBreakers;
  hashKey: (raw: string) => string;
  admin: { username: string; passwordHash: string };
  jwtKey: Uint8Array;
  logger: Logger;
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

  app.post('/auth/login', { schema: { body: LoginBody, response: { 200: LoginResponse } } }, async (request) => {
    const { username, password } = request.body;
    // Always hash, even for a wrong username, so timing does not tell which part was wrong.
    const passwordOk = await verifyPassword(password, deps.admin.passwordHash);
    if (!passwordOk || username !== deps.admin.username) throw unauthorized('invalid username or password');
    const { token, expiresAt } = await signAdminToken(deps.jwtKey, username);
    return { access_token: token, token_type: 'bearer' as const, expires_at: expiresAt.toISOString() };
  });

  await app.register(async (guarded) => {
    guarded.addHook('onRequest', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      const admin = token ? await verifyAdminToken(deps.jwtKey, token) : null;
      if (!admin) throw unauthorized();
      request.admin = admin;
    });
    await guarded.register(userRoutes, deps);
    await guarded.register(accessKeyRoutes, deps);
    await guarded.register(bedrockKeyRoutes, deps);
    await guarded.register(circuitBreakerRoutes, deps);
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
  const params = first.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = params.missingProperty ?? params.additionalProperty ?? (path || err.validationContext || 'body');
  if (params.missingProperty) return `${field}: is required`;
  if (params.additionalProperty) return `${field}: is not a known field`;
  if (params.allowedValues) return `${field}: must be one of ${params.allowedValues.join(', ')}`;
  return `${field}: ${first.message ?? 'is invalid'}`;
}
