import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/admin/session-cookie.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { browse, CookieJar, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.ts';

// Company sign-in against a real OpenID provider (oidc-provider) on 127.0.0.1: the browser's walk
// from the login button to the dashboard, roles from the groups claim, linking to the user of the
// same email (or enrolling one), sign-out, and the flow's checks (state, the flow cookie).

let idp: TestIdentityProvider;
let proxy: TestApp;
let call: AdminCall;
/** A second server on its own database that lets developers enrol themselves and takes unverified emails. */
let enrolling: TestApp;

const PEOPLE = {
  alice: { email: 'alice@example.com', groups: ['platform-admins', 'staff'] },
  victor: { email: 'victor@example.com', groups: ['auditors'] },
  dana: { email: 'Dana@Example.com', groups: ['staff'] },
  nobody: { email: 'nobody@example.com', groups: ['staff'] },
  paul: { email: 'paul@example.com', groups: ['platform-admins'] },
};

beforeAll(async () => {
  idp = await startIdentityProvider();
  proxy = await startTestApp({
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_ADMIN_VALUES: 'platform-admins',
    OIDC_VIEWER_VALUES: 'auditors,finance',
  });
  enrolling = await startTestApp({
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    SELF_ENROLMENT: 'true',
    SELF_ENROLMENT_ROUTING: 'plan_only',
    SELF_ENROLMENT_BUDGET: '25',
    OIDC_REQUIRE_VERIFIED_EMAIL: 'false',
  });
  idp.serve({ redirectUris: [`${proxy.url}/admin/auth/oidc/callback`, `${enrolling.url}/admin/auth/oidc/callback`], people: PEOPLE });
  call = await adminClient(proxy);
});
afterAll(async () => {
  await proxy?.close();
  await enrolling?.close();
  await idp?.close();
});

/** Signs `account` in from the dashboard's button; returns the browser's cookies and where it ended. */
async function signIn(account: string, app: TestApp = proxy) {
  const jar = new CookieJar();
  const end = await browse(`${app.url}/admin/auth/oidc/login`, { jar, account, stopAt: (url) => url.origin === app.url && url.pathname === '/' });
  return { jar, end, session: jar.get(new URL(app.url), SESSION_COOKIE) };
}

describe('company sign-in', () => {
  it('is offered by /admin/auth/methods', async () => {
    const res = await call('GET', '/admin/auth/methods', undefined, { token: null });
    expect(res.body).toEqual({ oidc: { issuer: idp.issuer, login_url: '/admin/auth/oidc/login' } });
  });

  it('signs a developer in, linked to the user with their email, and signs them out', async () => {
    const user = await call('POST', '/admin/users', { name: 'dana' });
    expect((await call('PUT', `/admin/users/${user.body.id}/email`, { email: 'dana@example.com' })).status).toBe(200);

    const { end, session } = await signIn('dana');
    expect(end.location).toBe(`${proxy.url}/`);
    expect(session).toBeTruthy();
    const cookie = { cookie: `${SESSION_COOKIE}=${session}` };
    const who = await call('GET', '/admin/auth/session', undefined, { token: null, headers: cookie });
    expect(who.body).toMatchObject({ username: 'Dana@Example.com', role: 'developer', user_id: user.body.id });
    expect((await call('GET', '/admin/me', undefined, { token: null, headers: cookie })).body.id).toBe(user.body.id);
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: cookie })).status).toBe(403);
    expect((await auditOf(proxy, who.body.username)).length).toBe(0); // the login entry's target is the session
    const logins = (await call('GET', '/admin/audit-log?action=auth.login&actor=Dana%40Example.com')).body.items as { after: { via: string } }[];
    expect(logins.map((e) => e.after.via)).toEqual(['oidc']);

    expect((await call('POST', '/admin/auth/logout', undefined, { token: null, headers: cookie })).status).toBe(204);
    expect((await call('GET', '/admin/auth/session', undefined, { token: null, headers: cookie })).status).toBe(401);
  });

  it('maps roles from the groups claim', async () => {
    const alice = await signIn('alice');
    const aliceCookie = { cookie: `${SESSION_COOKIE}=${alice.session}` };
    expect((await call('GET', '/admin/auth/session', undefined, { token: null, headers: aliceCookie })).body).toMatchObject({ username: 'alice@example.com', role: 'admin', user_id: null });
    const made = await call('POST', '/admin/users', { name: 'made-by-alice' }, { token: null, headers: { ...aliceCookie, origin: proxy.url } });
    expect(made.status).toBe(201);
    expect((await auditOf(proxy, made.body.id)).map((e) => e.actor)).toEqual(['alice@example.com']);

    const victor = await signIn('victor');
    const victorCookie = { cookie: `${SESSION_COOKIE}=${victor.session}` };
    expect((await call('GET', '/admin/auth/session', undefined, { token: null, headers: victorCookie })).body.role).toBe('viewer');
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: victorCookie })).status).toBe(200);
    expect((await call('POST', '/admin/users', { name: 'x' }, { token: null, headers: { ...victorCookie, origin: proxy.url } })).status).toBe(403);
  });

  it('refuses a developer with no user of their email while self-enrolment is off', async () => {
    const { end, session } = await signIn('nobody');
    expect(session).toBeUndefined();
    expect(end.status).toBe(403);
    expect(JSON.parse(end.body).error.message).toContain('no user with the email nobody@example.com');
  });

  it('enrols a developer with no user of their email when SELF_ENROLMENT is on, with the enrolment defaults, once', async () => {
    const first = await signIn('nobody', enrolling);
    expect(first.session).toBeTruthy();
    const enrolledCall = await adminClient(enrolling);
    const who = await enrolledCall('GET', '/admin/auth/session', undefined, { token: null, headers: { cookie: `${SESSION_COOKIE}=${first.session}` } });
    expect(who.body).toMatchObject({ username: 'nobody@example.com', role: 'developer', user_id: expect.any(String) });
    const user = await enrolledCall('GET', `/admin/users/${who.body.user_id}`);
    expect(user.body).toMatchObject({ name: 'nobody@example.com', routing_strategy: 'plan_only', monthly_budget_usd: '25.0000' });
    expect((await auditOf(enrolling, user.body.id)).map((e) => [e.action, e.actor])).toEqual([['user.enrol', 'nobody@example.com']]);
    const again = await signIn('nobody', enrolling);
    const whoAgain = await enrolledCall('GET', '/admin/auth/session', undefined, { token: null, headers: { cookie: `${SESSION_COOKIE}=${again.session}` } });
    expect(whoAgain.body.user_id).toBe(who.body.user_id);
  });

  it('refuses a person whose user is deactivated, and ends the session of one signed in before', async () => {
    const user = await call('POST', '/admin/users', { name: 'paul' });
    expect((await call('PUT', `/admin/users/${user.body.id}/email`, { email: 'paul@example.com' })).status).toBe(200);
    const before = await signIn('paul');
    const cookie = { cookie: `${SESSION_COOKIE}=${before.session}` };
    expect((await call('GET', '/admin/auth/session', undefined, { token: null, headers: cookie })).body).toMatchObject({ role: 'admin', user_id: user.body.id });
    expect((await call('GET', '/admin/users', undefined, { token: null, headers: cookie })).status).toBe(200);

    expect((await call('POST', `/admin/users/${user.body.id}/deactivate`)).status).toBe(200);
    const ended = await call('GET', '/admin/users', undefined, { token: null, headers: cookie });
    expect(ended.status).toBe(401);
    expect(ended.body.error.message).toBe('session ended: the user of paul@example.com is deactivated (deprovisioned); sign in again once it is reactivated');
    const { end, session } = await signIn('paul');
    expect(session).toBeUndefined();
    expect(end.status).toBe(403);
    expect(JSON.parse(end.body).error.message).toBe('sign-in: the user with the email paul@example.com is inactive; ask an admin to reactivate it');

    expect((await call('POST', `/admin/users/${user.body.id}/reactivate`)).status).toBe(200);
    expect((await signIn('paul')).session).toBeTruthy();
  });

  it('refuses a callback whose state is not the one this browser started with, or from a browser that started none', async () => {
    const jar = new CookieJar();
    const atCallback = await browse(`${proxy.url}/admin/auth/oidc/login`, { jar, account: 'alice', stopAt: (url) => url.pathname === '/admin/auth/oidc/callback' });
    const callback = new URL(atCallback.location!);
    expect(callback.searchParams.get('state')).toBeTruthy();

    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state');
    const wrongState = await fetch(forged, { headers: { cookie: jar.header(forged) }, redirect: 'manual' });
    expect(wrongState.status).toBe(401);
    expect(((await wrongState.json()) as { error: { message: string } }).error.message).toMatch(/^sign-in: .*state/);

    const noFlow = await fetch(callback, { redirect: 'manual' });
    expect(noFlow.status).toBe(400);
    expect(((await noFlow.json()) as { error: { message: string } }).error.message).toMatch(/^sign-in: no sign-in in progress/);

    // The genuine callback still works once, and its code cannot be replayed.
    const genuine = await fetch(callback, { headers: { cookie: jar.header(callback) }, redirect: 'manual' });
    expect(genuine.status).toBe(302);
    const replay = await fetch(callback, { headers: { cookie: jar.header(callback) }, redirect: 'manual' });
    expect(replay.status).toBe(401);
  });
});

describe("the ID token's checks", () => {
  /** Re-signs the provider's ID token with the provider's own key after `change` altered its claims. */
  const resign = (change: (claims: JWTPayload) => void) => async (idToken: string) => {
    const claims = decodeJwt(idToken);
    change(claims);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-signing-key' }).sign(idp.signingKey);
  };

  /** Signs victor in with the token endpoint rewritten; returns the callback's refusal message. */
  async function refusedWith(rewrite: Pick<TestIdentityProvider, 'onIdToken' | 'onTokenRequest'>): Promise<string> {
    Object.assign(idp, rewrite);
    try {
      const { end, session } = await signIn('victor');
      expect(session).toBeUndefined();
      expect(end.status).toBe(401);
      return (JSON.parse(end.body) as { error: { message: string } }).error.message;
    } finally {
      idp.onIdToken = undefined;
      idp.onTokenRequest = undefined;
    }
  }

  it('refuses an ID token whose claims were changed after signing', async () => {
    const message = await refusedWith({
      onIdToken: async (idToken) => {
        const [header, payload, signature] = idToken.split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
        claims.groups = ['platform-admins'];
        return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      },
    });
    expect(message).toMatch(/^sign-in: .*signature/i);
  });

  it('refuses an expired ID token, even one the provider signed', async () => {
    const message = await refusedWith({
      onIdToken: resign((claims) => {
        claims.iat = Math.floor(Date.now() / 1000) - 7200;
        claims.exp = Math.floor(Date.now() / 1000) - 3600;
      }),
    });
    expect(message).toMatch(/^sign-in: .*exp/i);
  });

  it('refuses an ID token for another sign-in (nonce)', async () => {
    expect(await refusedWith({ onIdToken: resign((claims) => void (claims.nonce = 'someone-elses-nonce')) })).toMatch(/^sign-in: .*nonce/i);
  });

  it('is refused by the provider when the PKCE verifier is not the one the challenge was made from', async () => {
    const message = await refusedWith({ onTokenRequest: (form) => form.set('code_verifier', 'x'.repeat(43)) });
    expect(message).toMatch(/^sign-in: .*(invalid_grant|PKCE|code_verifier)/i);
  });

  it('refuses an ID token saying the email is not verified (email_verified false, as a boolean or a string)', async () => {
    for (const value of [false, 'false']) {
      let given: unknown;
      const message = await refusedWith({
        onIdToken: resign((claims) => {
          given = claims.email_verified;
          claims.email_verified = value;
        }),
      });
      expect(given).toBe(true); // what the provider itself said
      expect(message).toBe('sign-in: the identity provider has not verified the email victor@example.com (email_verified is false); verify it there, or set OIDC_REQUIRE_VERIFIED_EMAIL=false');
    }
  });

  it('takes an unverified email where OIDC_REQUIRE_VERIFIED_EMAIL=false', async () => {
    idp.onIdToken = resign((claims) => void (claims.email_verified = false));
    try {
      const { session } = await signIn('victor', enrolling);
      expect(session).toBeTruthy();
      const who = await (await adminClient(enrolling))('GET', '/admin/auth/session', undefined, { token: null, headers: { cookie: `${SESSION_COOKIE}=${session}` } });
      expect(who.body).toMatchObject({ username: 'victor@example.com' });
    } finally {
      idp.onIdToken = undefined;
    }
  });

  it('still signs in after those refusals', async () => {
    expect((await signIn('victor')).session).toBeTruthy();
  });
});

describe('without OIDC_ISSUER', () => {
  it('changes nothing: only the ADMIN_CREDENTIALS login, and the OIDC routes say it is not configured', async () => {
    const plain = await startTestApp();
    try {
      const plainCall = await adminClient(plain);
      expect((await plainCall('GET', '/admin/auth/methods', undefined, { token: null })).body).toEqual({ oidc: null });
      const login = await plainCall('GET', '/admin/auth/oidc/login', undefined, { token: null });
      expect(login.status).toBe(404);
      expect(login.body.error.message).toContain('OIDC_ISSUER');
    } finally {
      await plain.close();
    }
  });
});
