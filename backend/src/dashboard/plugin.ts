import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The admin dashboard (frontend/, built by Vite into backend/public) at /. Hashed files under
// /assets never change, so browsers keep them for a year; index.html names the current ones, so
// it is revalidated on every load. Client-side routes (/users/…) get index.html too.

/** backend/public, seen from src/dashboard (tsx) and from dist/dashboard (compiled) alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../public', import.meta.url));

const NOT_BUILT =
  'The admin dashboard is not built.\n\n' +
  'Build it with `npm run build -w frontend` (or `npm install` at the repository root, which builds it),\n' +
  'then restart the server. The proxy (/ak/…, /v1/…) and the admin API (/admin/…) work without it.\n';

/**
 * For the page itself: scripts and API calls from this origin only, never framed (clickjacking of
 * the admin's session). Inline style attributes stay allowed: React and the charts set them.
 */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** Prefixes that belong to the proxy and the admin API: never answered with the dashboard. */
const API_PREFIXES = ['/admin/', '/ak/', '/v1/'];

export interface Dashboard {
  /** A browser asking for a page (a client-side route), not an API call or a missing asset. */
  wantsPage(request: FastifyRequest): boolean;
  /** index.html, or the "not built" note. */
  sendPage(reply: FastifyReply): FastifyReply;
}

export async function registerDashboard(app: FastifyInstance, dir: string = DEFAULT_DASHBOARD_DIR): Promise<Dashboard> {
  const built = existsSync(join(dir, 'index.html'));
  // Vite's hashed output (the name changes with the content); the path sendFile sees is absolute.
  const assetsDir = join(dir, 'assets') + sep;
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      // One wildcard route: a rebuild while the server runs is served at once.
      wildcard: true,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (res, path) => {
        if (path.startsWith(assetsDir)) {
          res.setHeader('cache-control', 'public, max-age=31536000, immutable');
          res.setHeader('x-content-type-options', 'nosniff');
          return;
        }
        res.setHeader('cache-control', 'no-cache');
        for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
      },
    });
  } else {
    app.get('/', async (_request, reply) => sendNotBuilt(reply));
  }

  return {
    wantsPage(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = request.url.split('?')[0] ?? '/';
      if (path === '/admin' || API_PREFIXES.some((p) => path.startsWith(p))) return false;
      // A missing /assets file is a 404, not a page: the HTML would be read as a script.
      if (path.startsWith('/assets/')) return false;
      return (request.headers.accept ?? '').includes('text/html');
    },
    sendPage(reply) {
      if (!built) return sendNotBuilt(reply);
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    },
  };
}

function sendNotBuilt(reply: FastifyReply): FastifyReply {
  return reply.code(503).header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(NOT_BUILT);
}
