import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import type { AccessKeyList, User, UserPage } from '../admin/contract.ts';
import { CliError, type Globals } from './context.ts';

// The admin API client, the token store (~/.config/ccproxy/credentials.json, mode 600; README "Admin CLI"),
// and finding a user or an access key by what a person types.

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

/** Every user but the deleted ones (whose keys are all revoked), a page at a time. */
async function* allUsers(g: Globals): AsyncGenerator<UserPage['items'][number]> {
  for (let offset = 0; ; offset += 500) {
    const page = await api<UserPage>(g, 'GET', `/admin/users?limit=500&offset=${offset}`);
    yield* page.items;
    if (offset + page.items.length >= page.total || page.items.length === 0) return;
  }
}

/** A user by id, or by name (case-insensitive), paging through the list. */
export async function findUser(g: Globals, ref: string): Promise<User> {
  if (UUID.test(ref)) return api<User>(g, 'GET', `/admin/users/${ref}`);
  for await (const match of allUsers(g)) {
    if (match.name.toLowerCase() !== ref.toLowerCase()) continue;
    // The user as GET /admin/users/{id} gives it, whichever way it was named (`users get --json`).
    const { budget: _budget, ...user } = match;
    return user;
  }
  throw new CliError(`no user named "${ref}"`);
}

export interface KeyRef {
  id: string;
  /** How output names the key: the id as given, or "ak_AbCdEfGh (id)" when found by its prefix. */
  label: string;
}

// Users whose key lists are fetched at once while a prefix is looked for.
const KEY_LOOKUPS_AT_ONCE = 8;

/**
 * An access key by id, or by its prefix as `keys list` shows it (`ak_` and 8 characters, or fewer
 * of them; a whole raw key also works). The admin API lists keys per user, so a prefix means
 * reading every user's list; exactly one key must match.
 */
export async function findKey(g: Globals, ref: string): Promise<KeyRef> {
  if (UUID.test(ref)) return { id: ref, label: ref };
  if (!/^ak_[A-Za-z0-9_-]+$/.test(ref)) throw new CliError(`"${ref}" is neither an access key id nor a key prefix like ak_AbCdEfGh (see "ccproxy keys list <user>")`);
  const users: { id: string; name: string }[] = [];
  for await (const user of allUsers(g)) users.push(user);
  const matches: { id: string; key_prefix: string; status: string; user: string }[] = [];
  for (let i = 0; i < users.length; i += KEY_LOOKUPS_AT_ONCE) {
    const lists = await Promise.all(users.slice(i, i + KEY_LOOKUPS_AT_ONCE).map(async (user) => ({ user, list: await api<AccessKeyList>(g, 'GET', `/admin/users/${user.id}/access-keys`) })));
    for (const { user, list } of lists) {
      for (const key of list.items) {
        if (key.key_prefix.startsWith(ref) || ref.startsWith(key.key_prefix)) matches.push({ id: key.id, key_prefix: key.key_prefix, status: key.status, user: user.name });
      }
    }
  }
  const [only, ...more] = matches;
  if (!only) throw new CliError(`no access key with prefix "${ref}" (see "ccproxy keys list <user>")`);
  if (more.length) {
    const shown = matches.slice(0, 10).map((k) => `${k.key_prefix} (${k.user}, ${k.status}, ${k.id})`);
    const listed = shown.join('; ') + (matches.length > shown.length ? `; and ${matches.length - shown.length} more` : '');
    throw new CliError(`prefix "${ref}" matches ${matches.length} keys: ${listed}; give the key id or more of the prefix`);
  }
  return { id: only.id, label: `${only.key_prefix} (${only.id})` };
}
