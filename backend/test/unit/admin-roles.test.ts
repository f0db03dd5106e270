import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { enforceRoles } from '../../src/admin/roles.ts';

describe('enforceRoles', () => {
  it('refuses to start with a guarded route that declares no roles', async () => {
    const app = Fastify();
    void app.register(
      async (scope) => {
        enforceRoles(scope);
        scope.get('/forgotten', async () => 'open to whom?');
      },
      { prefix: '/admin' },
    );
    await expect(app.ready()).rejects.toThrow('admin route GET /admin/forgotten declares no roles');
    await app.close();
  });

  it('starts with a route that declares its roles', async () => {
    const app = Fastify();
    await app.register(
      async (scope) => {
        enforceRoles(scope);
        scope.get('/declared', { config: { roles: ['admin'] } }, async () => 'ok');
      },
      { prefix: '/admin' },
    );
    await expect(app.ready()).resolves.toBeDefined();
    await app.close();
  });
});
