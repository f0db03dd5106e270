import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveJwtKey, signPersonToken } from '../../src/security/jwt.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// How the OpenAPI document says to authenticate (both bearer forms: automation tokens and the login's
// JWT, and the dashboard's cookie), and who may read the document itself: every role, with any of
// the ways to be signed in, and nobody without one.

const jwtKey = deriveJwtKey('test-key-hasher-secret-0123456789abcdef');

let proxy: TestApp;
let call: AdminCall;

beforeAll(async () => {
  proxy = await startTestApp();
  call = await adminClient(proxy);
});
afterAll(() => proxy.close());

interface SecurityScheme {
  type: string;
  scheme?: string;
  bearerFormat?: string;
  description?: string;
}

describe('the OpenAPI document', () => {
  it('names both bearer forms, automation tokens (ccp_…) and the login token, and the session cookie', async () => {
    const doc = (await call('GET', '/admin/openapi.json')).body as { info: { description: string }; components: { securitySchemes: Record<string, SecurityScheme> } };
    const { bearer, session } = doc.components.securitySchemes;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Not "JWT" only: an automation token is no JWT.
    expect(bearer!.bearerFormat).toBeUndefined();
    expect(bearer!.description).toContain('`ccp_…`');
    expect(bearer!.description).toContain('POST /admin/tokens');
    expect(bearer!.description).toContain('POST /admin/auth/login');
    expect(session!.description).toContain('company sign-in');
    expect(doc.info.description).toContain('`ccp_…`');
  });

  it('is open to every role, with a session or an automation token, and to nobody signed out or with a SCIM token', async () => {
    const user = await call('POST', '/admin/users', { name: 'reader' });
    const sessions = {
      admin: await proxy.adminToken(),
      viewer: (await signPersonToken(jwtKey, { username: 'viewer@example.com', role: 'viewer', userId: null })).token,
      developer: (await signPersonToken(jwtKey, { username: 'reader@example.com', role: 'developer', userId: user.body.id })).token,
      'viewer token': (await call('POST', '/admin/tokens', { name: 'docs-viewer', role: 'viewer', expires_in_days: 1 })).body.token as string,
    };
    for (const [who, token] of Object.entries(sessions)) {
      const res = await call('GET', '/admin/openapi.json', undefined, { token });
      expect({ who, status: res.status }).toEqual({ who, status: 200 });
      expect(res.body.openapi).toBe('3.1.0');
    }
    const scim = (await call('POST', '/admin/tokens', { name: 'docs-scim', role: 'scim', expires_in_days: 1 })).body.token as string;
    expect((await call('GET', '/admin/openapi.json', undefined, { token: scim })).status).toBe(401);
    expect((await call('GET', '/admin/openapi.json', undefined, { token: null })).status).toBe(401);
  });
});
