import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** A person the test identity provider knows: their account id is what the login form takes. */
export interface TestPerson {
  email: string;
  groups: string[];
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Starts answering, for a client whose callbacks are `redirectUris` (known once the apps listen). */
  serve(options: { redirectUris: string[]; people: Record<string, TestPerson> }): void;
  /** The provider's ID token signing key (to forge tokens the proxy must refuse). */
  signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  /** When set, rewrites the token endpoint's request body (form) before the provider reads it. */
  onTokenRequest?: (form: URLSearchParams) => void;
  /** When set, rewrites the ID token of the token endpoint's answer. */
  onIdToken?: (idToken: string) => Promise<string>;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1 with its development login
 * and consent pages, one confidential client, and ID tokens that carry email and groups.
 */
export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'ccproxy-test';
  const clientSecret = 'ccproxy-test-secret-0123456789abcdef';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };
  const serve = (options: { redirectUris: string[]; people: Record<string, TestPerson> }) => {
    const provider = new Provider(issuer, {
      clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris, grant_types: ['authorization_code'], response_types: ['code'] }],
      cookies: { keys: ['test-cookie-signing-key'] },
      jwks: { keys: [jwk as never] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
      // The claims of the scopes granted go in the ID token itself (the proxy reads no userinfo).
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      async findAccount(_ctx, id) {
        const person = options.people[id];
        if (!person) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, email: person.email, email_verified: true, name: id, groups: person.groups }) };
      },
    });
    const handle = provider.callback();
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.method === 'POST' && req.url?.startsWith('/token') && (idp.onTokenRequest || idp.onIdToken)) void rewriteToken(req, res, handle);
      else handle(req, res);
    });
  };

  /** The token endpoint with idp's rewrites applied to its request and its answer. */
  async function rewriteToken(req: http.IncomingMessage, res: http.ServerResponse, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    idp.onTokenRequest?.(form);
    const body = form.toString();
    const replay = Readable.from([Buffer.from(body)]) as unknown as http.IncomingMessage;
    Object.assign(replay, { method: req.method, url: req.url, headers: { ...req.headers, 'content-length': String(Buffer.byteLength(body)) }, socket: req.socket, httpVersion: req.httpVersion });
    const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
    const chunksOut: Buffer[] = [];
    res.write = ((chunk: unknown) => (chunksOut.push(Buffer.from(chunk as Buffer)), true)) as typeof res.write;
    res.end = ((chunk?: unknown) => {
      if (chunk) chunksOut.push(Buffer.from(chunk as Buffer));
      const answer = JSON.parse(Buffer.concat(chunksOut).toString()) as { id_token?: string };
      void (async () => {
        if (answer.id_token && idp.onIdToken) answer.id_token = await idp.onIdToken(answer.id_token);
        const text = JSON.stringify(answer);
        res.setHeader('content-length', Buffer.byteLength(text));
        end(text);
      })();
      return res;
    }) as typeof res.end;
    handle(replay, res);
  }

  const idp: TestIdentityProvider = {
    issuer,
    clientId,
    clientSecret,
    serve,
    signingKey: privateKey,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return idp;
}

/** A browser's cookies, per host (enough for 127.0.0.1 servers that set plain cookies). */
export class CookieJar {
  private readonly jar = new Map<string, Map<string, string>>();

  store(url: URL, setCookie: string[]): void {
    const host = this.jar.get(url.host) ?? new Map<string, string>();
    for (const line of setCookie) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0\b/i.test(line) || value === '') host.delete(name);
      else host.set(name, value);
    }
    this.jar.set(url.host, host);
  }

  header(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: URL, name: string): string | undefined {
    return this.jar.get(url.host)?.get(name);
  }
}

/**
 * Walks a sign-in the way a browser would: follows redirects with cookies, and on the provider's
 * login and consent pages submits `account` and "Continue". Stops at the first answer that is
 * neither a redirect nor one of those pages, or at a redirect to `stopAt` (not followed).
 */
export async function browse(start: string, options: { jar: CookieJar; account: string; stopAt?: (url: URL) => boolean }): Promise<{ url: URL; status: number; body: string; location?: string }> {
  let url = new URL(start);
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: options.jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    options.jar.store(url, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (options.stopAt?.(next)) return { url, status: res.status, body: await res.text(), location: next.href };
      url = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    const text = await res.text();
    const prompt = /name="prompt" value="(login|consent)"/.exec(text)?.[1];
    if (res.status === 200 && prompt && url.pathname.startsWith('/interaction/')) {
      method = 'POST';
      body = new URLSearchParams(prompt === 'login' ? { prompt, login: options.account } : { prompt }).toString();
      continue;
    }
    return { url, status: res.status, body: text };
  }
  throw new Error('too many redirects');
}
