import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import type { User, UserPage } from '../admin/contract.ts';
import { CliError, type Globals } from './context.ts';

// The admin API client and the token store (~/.config/ccproxy/credentials.json, mode 600; README "Admin CLI").

const configDir = () => process.env.CCPROXY_CONFIG_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'ccproxy');
const credentialsFile = () => path.join(configDir(), 'credentials.json');

function readTokens(): Record<string, { token: string; expires_at: string }> {
  try {
    return JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as Record<string, { token: string; expires_at: string }>;
  } catch {
    return {};
  }
}

export function saveToken(url: string, token: string, expiresAt: string): void {
  const tokens = readTokens();
  tokens[url] = { token, expires_at: expiresAt };
  fs.mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(credentialsFile(), JSON.stringify(tokens, null, 2), { mode: 0o600 });
}

export function forgetToken(url: string): void {
  const tokens = readTokens();
  if (!(url in tokens)) return;
  delete tokens[url];
  fs.writeFileSync(credentialsFile(), JSON.stringify(tokens, null, 2), { mode: 0o600 });
}

function tokenFor(url: string): string {
  if (process.env.CCPROXY_TOKEN) return process.env.CCPROXY_TOKEN;
  const saved = readTokens()[url];
  if (!saved || Date.parse(saved.expires_at) <= Date.now()) throw new CliError(`not logged in to ${url}: run "ccproxy login" first`);
  return saved.token;
}

export async function api<T>(g: Globals, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', pathname: string, body?: unknown, auth = true): Promise<T> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${g.url}${pathname}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: `Bearer ${tokenFor(g.url)}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as Error & { code?: string; errors?: { code?: string }[] };
    throw new CliError(`cannot reach ${g.url}: ${e.code ?? e.errors?.[0]?.code ?? e.message}`);
  }
  const text = await res.body.text();
  if (res.statusCode >= 400) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      /* not JSON */
    }
    throw new CliError(`${res.statusCode}: ${message}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user by id, or by name (case-insensitive), paging through the list. */
export async function findUser(g: Globals, ref: string): Promise<User> {
  if (UUID.test(ref)) return api<User>(g, 'GET', `/admin/users/${ref}`);
  for (let offset = 0; ; offset += 500) {
    const page = await api<UserPage>(g, 'GET', `/admin/users?limit=500&offset=${offset}`);
    const match = page.items.find((u) => u.name.toLowerCase() === ref.toLowerCase());
    if (match) {
      // The user as GET /admin/users/{id} gives it, whichever way it was named (`users get --json`).
      const { budget: _budget, ...user } = match;
      return user;
    }
    if (offset + page.items.length >= page.total) throw new CliError(`no user named "${ref}"`);
  }
}
