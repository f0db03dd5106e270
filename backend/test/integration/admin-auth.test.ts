import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/admin/session-cookie.ts';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { resolveSecrets } from '../../src/secrets.ts';
import { deriveJwtKey } from '../../src/security/jwt.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { ADMIN_PASSWORD, LOCAL_ENCRYPTION_KEY, startTestApp, type TestApp } from '../support/app.ts';
import type { TestDatabase } from '../support/db.ts';

let proxy: TestApp;
let call: AdminCall;

beforeAll(async () => {
  proxy = await startTestApp();
  call = await adminClient(proxy);
});
afterAll(() => proxy.close());

/** Each test uses its own client address, so the login rate limit of one does not reach another. */
let clientIp = 0;
const fromNewIp = () => ({ 'x-forwarded-for': `203.0.113.${++clientIp}` });

async function login(headers: Record<string, string> = fromNewIp(), password = ADMIN_PASSWORD, username = 'admin') {
  return call('POST', '/admin/auth/login', { username, password }, { token: null, headers });
}

function cookieOf(res: { headers: Record<string, string | string[] | undefined> }): string {
  const header = res.headers['set-cookie'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new Error('no set-cookie');
  return value;
}

describe('login', () => {
  it('returns a 12-hour JWT with issuer, audience, expiry and id, and audits the login', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ sub: 'admin', iss: 'claude-code-proxy', aud: 'claude-code-proxy-admin', jti: expect.any(String) });
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
    const [entry] = await auditOf(proxy, claims.jti!);
    expect(entry).toMatchObject({ actor: 'admin', action: 'auth.login', targetType: 'admin_session', ip: expect.stringMatching(/^203\.0\.113\./) });
    expect(JSON.stringify(entry)).not.toContain(res.body.access_token);
    expect(JSON.stringify(entry)).not.toContain(ADMIN_PASSWORD);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie for /admin, Secure only behind HTTPS', async () => {
    const plain = cookieOf(await login());
    expect(plain).toMatch(new RegExp(`^${SESSION_COOKIE}=ey[^;]+; Path=/admin; Max-Age=4319\\d; HttpOnly; SameSite=Strict$`));
    const https = cookieOf(await login({ ...fromNewIp(), 'x-forwarded-proto': 'https' }));
    expect(https).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('accepts the cookie instead of the bearer token, and tells the dashboard who is logged in', async () => {
    const cookie = cookieOf(await login()).split(';')[0]!;
    const session = await call('GET', '/admin/auth/session', undefined, { token: null, headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ username: 'admin', role: 'admin', user_id: null, expires_at: expect.any(String) });
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: { cookie } })).status).toBe(200);
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: { cookie: `${SESSION_COOKIE}=garbage` } })).status).toBe(401);
  });

  it('refuses a cookie-authenticated change from another origin (sibling subdomains are same-site)', async () => {
    const cookie = cookieOf(await login()).split(';')[0]!;
    const foreign = await call('POST', '/admin/users', { name: 'from-evil' }, { token: null, headers: { cookie, origin: 'https://evil.example.com' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toEqual({ type: 'permission_error', message: expect.stringMatching(/^origin: /) });
    const own = await call('POST', '/admin/users', { name: 'from-dashboard' }, { token: null, headers: { cookie, origin: proxy.url } });
    expect(own.status).toBe(201);
    // A script with a bearer token is no browser: its Origin (if any) does not matter.
    expect((await call('POST', '/admin/users', { name: 'from-script' }, { headers: { origin: 'https://evil.example.com' } })).status).toBe(201);
  });
});

describe('client address', () => {
  it('is the one the load balancer saw, not one the client wrote into X-Forwarded-For', async () => {
    const res = await login({ 'x-forwarded-for': '6.6.6.6, 198.51.100.77' });
    const [entry] = await auditOf(proxy, decodeJwt(res.body.access_token).jti!);
    expect(entry!.ip).toBe('198.51.100.77');
  });
});

describe('tokens', () => {
  it('rejects missing, malformed, tampered, foreign-key, wrong-audience and expired tokens with the same 401', async () => {
    const { access_token: good } = (await login()).body as { access_token: string };
    const key = deriveJwtKey('test-key-hasher-secret-0123456789abcdef');
    // The admin credentials' fingerprint from a real token, so each bad one below is bad for its own reason.
    const sign = (claims: { aud?: string; exp?: number; iss?: string }, signingKey = key) =>
      new SignJWT({ cfp: decodeJwt(good).cfp })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('admin')
        .setJti('j-1')
        .setIssuer(claims.iss ?? 'claude-code-proxy')
        .setAudience(claims.aud ?? 'claude-code-proxy-admin')
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 60)
        .sign(signingKey);
    const [h, p] = good.split('.');
    const bad = [
      null,
      'not-a-jwt',
      `${good.slice(0, -4)}AAAA`,
      `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: 'root' })).toString('base64url')}.${good.split('.')[2]}`,
      await sign({}, new TextEncoder().encode('another-secret-0123456789abcdef-0123')),
      await sign({ aud: 'someone-else' }),
      await sign({ iss: 'someone-else' }),
      await sign({ exp: Math.floor(Date.now() / 1000) - 5 }),
    ];
    expect(p).toBeTruthy();
    for (const token of bad) {
      const res = await call('GET', '/admin/users', undefined, { token });
      expect(res.status, String(token)).toBe(401);
      expect(res.body).toEqual({ error: { type: 'authentication_error', message: 'a valid admin token is required' } });
    }
    expect((await call('GET', '/admin/users', undefined, { token: await sign({}) })).status).toBe(200);
  });

  it('logout ends the token on every route and clears the cookie; the second logout is harmless', async () => {
    const { access_token: token } = (await login()).body as { access_token: string };
    expect((await call('GET', '/admin/users', undefined, { token })).status).toBe(200);
    const out = await call('POST', '/admin/auth/logout', undefined, { token });
    expect(out.status).toBe(204);
    expect(cookieOf(out)).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict$`));
    expect((await call('GET', '/admin/users', undefined, { token })).status).toBe(401);
    expect((await call('POST', '/admin/auth/logout', undefined, { token })).status).toBe(204);
    const entries = await auditOf(proxy, decodeJwt(token).jti!);
    expect(entries.map((e) => e.action)).toEqual(['auth.login', 'auth.logout']);
  });

  it('logout by cookie ends the cookie session', async () => {
    const cookie = cookieOf(await login()).split(';')[0]!;
    expect((await call('POST', '/admin/auth/logout', undefined, { token: null, headers: { cookie } })).status).toBe(204);
    expect((await call('GET', '/admin/auth/session', undefined, { token: null, headers: { cookie } })).status).toBe(401);
  });
});

describe('login rate limit', () => {
  it('answers 429 with retry-after after 5 attempts from one address for one username, even for the right password', async () => {
    const ip = fromNewIp();
    for (let i = 0; i < 5; i++) expect((await login(ip, 'wrong')).status).toBe(401);
    const blocked = await login(ip);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.type).toBe('rate_limit_error');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another address is not affected, not even for the same username: guessing cannot lock the admin out.
    expect((await login(fromNewIp(), 'wrong', 'another-admin')).status).toBe(401);
    expect((await login(fromNewIp())).status).toBe(200);
  });

  it('caps one address at 20 attempts a minute across usernames', async () => {
    const ip = fromNewIp();
    for (let i = 0; i < 20; i++) expect((await login(ip, 'wrong', `someone-guessing-${i}`)).status).toBe(401);
    expect((await login(ip, 'wrong', 'someone-guessing-new')).status).toBe(429);
    expect((await login(fromNewIp(), 'wrong', 'someone-guessing-new')).status).toBe(401);
  });

  it('logs failures without the password', async () => {
    await login(fromNewIp(), 'a-guessed-password-123', 'yet-another-user');
    expect(proxy.logText()).not.toContain('a-guessed-password-123');
    expect(proxy.logs.some((l) => l.msg === 'admin login failed')).toBe(true);
  });
});

describe('sessions and the admin credentials', () => {
  // Tasks started the way main.ts starts them (ADMIN_CREDENTIALS through resolveSecrets), on one database.
  const started: { app: App; dataDir: string }[] = [];
  let peer: Database;
  beforeAll(async () => {
    peer = await (proxy.database as TestDatabase).openPeer();
  });
  afterAll(async () => {
    for (const { app, dataDir } of started) {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    await peer.close();
  });

  async function task(password: string): Promise<App> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-auth-'));
    const config = loadConfig({
      ENVIRONMENT: 'test',
      KEY_HASHER_SECRET: 'test-key-hasher-secret-0123456789abcdef',
      ADMIN_CREDENTIALS: JSON.stringify({ username: 'admin', password }),
      DATA_DIR: dataDir,
      PLAN_API_URL: 'http://127.0.0.1:9',
      LOCAL_ENCRYPTION_KEY,
    });
    const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
    const app = await createApp(config, await resolveSecrets(config, () => {}), peer, createLogger('error', quiet));
    started.push({ app, dataDir });
    return app;
  }

  const users = (app: App, token: string) => app.server.inject({ method: 'GET', url: '/admin/users', headers: { authorization: `Bearer ${token}` } });

  it('end when ADMIN_CREDENTIALS changes, and survive a restart with the same ones', async () => {
    const before = await task('the-old-admin-password');
    const res = await before.server.inject({ method: 'POST', url: '/admin/auth/login', headers: { 'x-forwarded-for': '203.0.113.250' }, payload: { username: 'admin', password: 'the-old-admin-password' } });
    expect(res.statusCode).toBe(200);
    const token = (res.json() as { access_token: string }).access_token;
    expect((await users(before, token)).statusCode).toBe(200);

    // Another task (or a restart) with the same credentials accepts it; one with a new password does not.
    expect((await users(await task('the-old-admin-password'), token)).statusCode).toBe(200);
    const after = await task('a-brand-new-admin-password');
    expect((await users(after, token)).statusCode).toBe(401);
    expect((await after.server.inject({ method: 'GET', url: '/admin/auth/session', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
  });
});

describe('CORS', () => {
  it('answers nobody by default, and only the allowed origins when CORS_ORIGINS is set', async () => {
    const preflight = (app: TestApp, origin: string) =>
      fetch(`${app.url}/admin/users`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const closed = await preflight(proxy, 'https://dash.example.com');
    expect(closed.headers.get('access-control-allow-origin')).toBeNull();

    const open = await startTestApp({ CORS_ORIGINS: 'https://dash.example.com,http://localhost:5173' });
    try {
      const allowed = await preflight(open, 'https://dash.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      const refused = await preflight(open, 'https://evil.example.com');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      // The proxy's own routes never answer CORS.
      const proxyRoute = await fetch(`${open.url}/ak/ak_x/v1/messages`, { method: 'OPTIONS', headers: { origin: 'https://dash.example.com' } });
      expect(proxyRoute.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await open.close();
    }
  });
});
