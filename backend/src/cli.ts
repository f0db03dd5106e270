import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request, type Dispatcher } from 'undici';
import { hashPassword } from './security/passwords.ts';

// `ccproxy`: a client of the admin API, so it works while the server holds the embedded database.

const HELP = `Usage: ccproxy <command> [options]

Commands:
  login [--username admin]            log in; the password is read from standard input
  logout                              end the session (the token stops working everywhere)
  admin hash-password                 print a scrypt hash of the password on standard input, for
                                      ADMIN_CREDENTIALS (no server needed)
  users add <name> [--description d]  create a user
  users list [--limit n] [--offset n] [--status active|inactive|deleted] [--q text]
                                      list users (without --status: all but deleted)
  users get <user>                    show a user (id or name)
  users deactivate|reactivate <user>  block or unblock all of a user's keys
  users delete <user> --yes           soft delete: revoke every key, keep the usage
  users set <user> [--routing plan_first|bedrock_only|plan_only] [--name n] [--description d] [--budget usd|none]
                                      change a user (id or name); --budget none removes the budget
  keys issue <user> [--bedrock-region r]  issue an access key (user id or name); shown once
  keys list <user>                    list a user's access keys
  keys revoke <key id>                revoke an access key at once
  keys rotate <key id>                a new key (shown once); the old one works for KEY_ROTATION_GRACE
  keys region <key id> <region|none>  the key's own Bedrock region (none: BEDROCK_REGION)
  keys bedrock <key id> [--delete]    set the access key's Bedrock API key, read from standard input
                                      (never from arguments); --delete removes it
  mappings list                       model mappings (admin rows, then the shipped defaults)
  mappings set <model> <bedrock id> [--geographies us,eu,global]
                                      add or replace a model mapping
  mappings delete <model>             remove an admin mapping
  breakers list                       circuit breakers that are open or counting failures
  breakers reset <key id>             close an access key's breaker on every task
  audit [--action a] [--actor x] [--target id] [--target-type t] [--since iso] [--until iso] [--limit n] [--offset n]
                                      the audit log, newest first
  usage [--user u] [--key id] [--provider plan|bedrock] [--model m] [--period day|week|month | --start YYYY-MM-DD --end YYYY-MM-DD] [--bucket hour|day|month]
                                      tokens and cost per bucket, with totals (periods in TIMEZONE)
  usage top [--by tokens|cost] [--limit n] [--period …]   the users with the most tokens or cost
  usage breakdown [--user u] [--period …]                  cost per provider and model
  budget <user> [<usd>|none]          show a user's monthly Bedrock budget and spend, or set/remove it
  limits <user> [--rpm n|none] [--in-flight n|none]
                                      show or set a user's request limits (counted by each proxy task)
  pricing list [--provider anthropic|bedrock] [--model m] [--current]
                                      model prices (USD per million tokens) and when they apply
  pricing add <model> --provider anthropic|bedrock [--region r|global] --input p --output p
      --cache-write-5m p --cache-write-1h p --cache-read p [--effective YYYY-MM-DD|iso]
                                      a new price from its effective time (default now); costs already recorded never change

Options:
  --url <url>   the proxy (default $CCPROXY_URL or http://127.0.0.1:$PORT, port 8000)
  --json        machine-readable output
  -h, --help    this help`;

class CliError extends Error {}

interface UsageReport {
  period: { start: string; end: string; timezone: string };
  totals: Record<string, unknown>;
  buckets: Record<string, unknown>[];
}
interface BudgetStatus {
  monthly_budget_usd: string | null;
  spent_usd: string;
  reserved_usd: string;
  remaining_usd: string | null;
  percent_used: number | null;
  period_start: string;
  period_end: string;
}

interface Globals {
  url: string;
  json: boolean;
}

const configDir = () => process.env.CCPROXY_CONFIG_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'ccproxy');
const credentialsFile = () => path.join(configDir(), 'credentials.json');

function readTokens(): Record<string, { token: string; expires_at: string }> {
  try {
    return JSON.parse(fs.readFileSync(credentialsFile(), 'utf8')) as Record<string, { token: string; expires_at: string }>;
  } catch {
    return {};
  }
}

function saveToken(url: string, token: string, expiresAt: string): void {
  const tokens = readTokens();
  tokens[url] = { token, expires_at: expiresAt };
  fs.mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(credentialsFile(), JSON.stringify(tokens, null, 2), { mode: 0o600 });
}

function forgetToken(url: string): void {
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

async function api<T>(g: Globals, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', pathname: string, body?: unknown, auth = true): Promise<T> {
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

async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const chunk of stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (ch: string) => {
      if (ch === '\r' || ch === '\n') {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.off('data', onData);
        process.stderr.write('\n');
        resolve(value);
      } else if (ch === '\u0003') {
        stdin.setRawMode(false);
        reject(new CliError('cancelled'));
      } else if (ch === '\u007f') {
        value = value.slice(0, -1);
      } else {
        value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

interface User {
  id: string;
  name: string;
  status: string;
  routing_strategy: string;
  monthly_budget_usd: string | null;
  created_at: string;
}
interface BedrockKeyStatus {
  access_key_id: string;
  last4: string;
  updated_at: string;
}

const ROUTING = ['plan_first', 'bedrock_only', 'plan_only'];
interface AccessKey {
  id: string;
  key_prefix: string;
  status: string;
  bedrock_region: string | null;
  created_at: string;
  raw_key?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function findUser(g: Globals, ref: string): Promise<User> {
  if (UUID.test(ref)) return api<User>(g, 'GET', `/admin/users/${ref}`);
  for (let offset = 0; ; offset += 500) {
    const page = await api<{ items: User[]; total: number }>(g, 'GET', `/admin/users?limit=500&offset=${offset}`);
    const match = page.items.find((u) => u.name.toLowerCase() === ref.toLowerCase());
    if (match) return match;
    if (offset + page.items.length >= page.total) throw new CliError(`no user named "${ref}"`);
  }
}

function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

function out(g: Globals, value: unknown, human: string): void {
  process.stdout.write(`${g.json ? JSON.stringify(value, null, 2) : human}\n`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      username: { type: 'string', default: 'admin' },
      description: { type: 'string' },
      limit: { type: 'string', default: '50' },
      offset: { type: 'string', default: '0' },
      'bedrock-region': { type: 'string' },
      name: { type: 'string' },
      routing: { type: 'string' },
      budget: { type: 'string' },
      delete: { type: 'boolean', default: false },
      status: { type: 'string' },
      q: { type: 'string' },
      yes: { type: 'boolean', default: false },
      geographies: { type: 'string' },
      action: { type: 'string' },
      actor: { type: 'string' },
      target: { type: 'string' },
      'target-type': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      user: { type: 'string' },
      key: { type: 'string' },
      provider: { type: 'string' },
      model: { type: 'string' },
      period: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      bucket: { type: 'string' },
      by: { type: 'string' },
      region: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      'cache-write-5m': { type: 'string' },
      'cache-write-1h': { type: 'string' },
      'cache-read': { type: 'string' },
      effective: { type: 'string' },
      current: { type: 'boolean', default: false },
      rpm: { type: 'string' },
      'in-flight': { type: 'string' },
    },
  });
  const [group, action, arg] = positionals;
  if (values.help || !group) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const g: Globals = {
    url: (values.url ?? process.env.CCPROXY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`).replace(/\/+$/, ''),
    json: values.json ?? false,
  };
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new CliError(`missing ${what}; see "ccproxy --help"`);
    return value;
  };

  // Report filters shared by the usage commands: the period in TIMEZONE, a user by id or name, …
  const usageQuery = async (params: Record<string, string | undefined>): Promise<string> => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(name, value);
    if (values.user) query.set('user_id', (await findUser(g, values.user)).id);
    return query.toString();
  };
  const range = { period: values.period, start_date: values.start, end_date: values.end };

  switch (`${group} ${['login', 'budget', 'limits'].includes(group) ? '' : (action ?? '')}`.trim()) {
    case 'login': {
      const password = await readSecret(`Password for ${values.username} at ${g.url}: `);
      if (!password) throw new CliError('no password on standard input');
      const res = await api<{ access_token: string; expires_at: string }>(g, 'POST', '/admin/auth/login', { username: values.username, password }, false);
      saveToken(g.url, res.access_token, res.expires_at);
      return out(g, { url: g.url, expires_at: res.expires_at }, `Logged in to ${g.url} until ${res.expires_at}`);
    }
    case 'users add': {
      const user = await api<User>(g, 'POST', '/admin/users', { name: need(action && arg, 'user name'), ...(values.description ? { description: values.description } : {}) });
      return out(g, user, `Created user ${user.name} (${user.id})`);
    }
    case 'users list': {
      const query = new URLSearchParams({ limit: values.limit ?? '50', offset: values.offset ?? '0' });
      if (values.status) query.set('status', values.status);
      if (values.q) query.set('q', values.q);
      const page = await api<{ items: User[]; total: number }>(g, 'GET', `/admin/users?${query}`);
      return out(g, page, `${table(page.items as unknown as Record<string, unknown>[], ['id', 'name', 'status', 'routing_strategy', 'created_at'])}\n${page.total} user(s)`);
    }
    case 'users set': {
      const user = await findUser(g, need(arg, 'user id or name'));
      const changes: Record<string, unknown> = {};
      if (values.routing !== undefined) {
        if (!ROUTING.includes(values.routing)) throw new CliError(`--routing must be one of ${ROUTING.join(', ')} (got "${values.routing}")`);
        changes.routing_strategy = values.routing;
      }
      if (values.name !== undefined) changes.name = values.name;
      if (values.description !== undefined) changes.description = values.description === '' ? null : values.description;
      if (values.budget !== undefined) changes.monthly_budget_usd = ['none', ''].includes(values.budget.toLowerCase()) ? null : values.budget;
      if (Object.keys(changes).length === 0) throw new CliError('nothing to change: give --routing, --name, --description or --budget');
      const updated = await api<User>(g, 'PATCH', `/admin/users/${user.id}`, changes);
      const budget = updated.monthly_budget_usd === null ? 'none' : `$${updated.monthly_budget_usd}`;
      return out(g, updated, `Updated user ${updated.name} (${updated.id}): routing ${updated.routing_strategy}, monthly budget ${budget}`);
    }
    case 'keys bedrock': {
      const id = need(arg, 'access key id');
      if (positionals.length > 3) throw new CliError('the Bedrock API key is read from standard input, never from arguments');
      if (values.delete) {
        await api(g, 'DELETE', `/admin/access-keys/${id}/bedrock-key`);
        return out(g, { access_key_id: id, configured: false }, `Removed the Bedrock API key of access key ${id}`);
      }
      const bedrockApiKey = (await readSecret(`Bedrock API key for access key ${id}: `)).trim();
      if (!bedrockApiKey) throw new CliError('no Bedrock API key on standard input');
      const status = await api<BedrockKeyStatus>(g, 'PUT', `/admin/access-keys/${id}/bedrock-key`, { bedrock_api_key: bedrockApiKey });
      return out(g, status, `Bedrock API key set for access key ${id} (ends in …${status.last4})`);
    }
    case 'keys issue': {
      const user = await findUser(g, need(arg, 'user id or name'));
      const key = await api<AccessKey>(g, 'POST', `/admin/users/${user.id}/access-keys`, values['bedrock-region'] ? { bedrock_region: values['bedrock-region'] } : {});
      return out(
        g,
        key,
        `Access key for ${user.name} (shown only now):\n\n  ${key.raw_key}\n\n` +
          `Point Claude Code at it:\n  export ANTHROPIC_BASE_URL=${g.url}/ak/${key.raw_key}\n`,
      );
    }
    case 'keys list': {
      const user = await findUser(g, need(arg, 'user id or name'));
      const res = await api<{ items: AccessKey[] }>(g, 'GET', `/admin/users/${user.id}/access-keys`);
      return out(g, res, table(res.items as unknown as Record<string, unknown>[], ['id', 'key_prefix', 'status', 'bedrock_region', 'has_bedrock_key', 'rotation_expires_at', 'created_at']));
    }
    case 'keys revoke': {
      const id = need(arg, 'access key id');
      await api(g, 'DELETE', `/admin/access-keys/${id}`);
      return out(g, { id, status: 'revoked' }, `Revoked access key ${id}`);
    }
    case 'logout': {
      await api(g, 'POST', '/admin/auth/logout');
      forgetToken(g.url);
      return out(g, { url: g.url, logged_out: true }, `Logged out of ${g.url}`);
    }
    case 'admin hash-password': {
      const password = await readSecret('Password to hash: ');
      if (!password) throw new CliError('no password on standard input');
      const hash = await hashPassword(password);
      return out(g, { hash }, `${hash}\n\nUse it as the password in ADMIN_CREDENTIALS, e.g.\n  ADMIN_CREDENTIALS='${JSON.stringify({ username: 'admin', password: hash })}'`);
    }
    case 'users get': {
      const user = await findUser(g, need(arg, 'user id or name'));
      return out(g, user, table([user as unknown as Record<string, unknown>], ['id', 'name', 'status', 'routing_strategy', 'monthly_budget_usd', 'created_at']));
    }
    case 'users deactivate':
    case 'users reactivate': {
      const user = await findUser(g, need(arg, 'user id or name'));
      const updated = await api<User>(g, 'POST', `/admin/users/${user.id}/${action}`);
      return out(g, updated, `User ${updated.name} (${updated.id}) is ${updated.status}`);
    }
    case 'users delete': {
      const user = await findUser(g, need(arg, 'user id or name'));
      if (!values.yes) throw new CliError(`deleting ${user.name} revokes all of their keys at once; add --yes to confirm`);
      await api(g, 'DELETE', `/admin/users/${user.id}`);
      return out(g, { id: user.id, status: 'deleted' }, `Deleted user ${user.name} (${user.id}); their keys are revoked, their usage is kept`);
    }
    case 'keys rotate': {
      const id = need(arg, 'access key id');
      const key = await api<AccessKey & { replaces: { id: string; rotation_expires_at: string } }>(g, 'POST', `/admin/access-keys/${id}/rotate`);
      return out(
        g,
        key,
        `New access key (shown only now), replacing ${id}:\n\n  ${key.raw_key}\n\n` +
          `The old key keeps working until ${key.replaces.rotation_expires_at}, then the server revokes it.\n`,
      );
    }
    case 'keys region': {
      const id = need(arg, 'access key id');
      const region = need(positionals[3], 'region (or "none")');
      const key = await api<AccessKey>(g, 'PATCH', `/admin/access-keys/${id}`, { bedrock_region: region.toLowerCase() === 'none' ? null : region });
      return out(g, key, `Access key ${id}: Bedrock region ${key.bedrock_region ?? 'BEDROCK_REGION (server default)'}`);
    }
    case 'mappings list': {
      type Mapping = { model: string; base_id: string; geographies: string[] };
      const res = await api<{ items: Mapping[]; defaults: Mapping[] }>(g, 'GET', '/admin/model-mappings');
      const rows = (list: Mapping[], source: string) => list.map((m) => ({ ...m, geographies: m.geographies.join(','), source }));
      return out(g, res, table([...rows(res.items, 'admin'), ...rows(res.defaults, 'default')], ['model', 'base_id', 'geographies', 'source']));
    }
    case 'mappings set': {
      const model = need(arg, 'model name');
      const baseId = need(positionals[3], 'Bedrock model id');
      const geographies = values.geographies ? values.geographies.split(',').map((x) => x.trim()).filter(Boolean) : [];
      const row = await api<{ model: string; base_id: string; geographies: string[] }>(g, 'PUT', `/admin/model-mappings/${encodeURIComponent(model)}`, { base_id: baseId, geographies });
      return out(g, row, `${row.model} → ${row.base_id}${row.geographies.length ? ` (profiles: ${row.geographies.join(', ')})` : ''}`);
    }
    case 'mappings delete': {
      const model = need(arg, 'model name');
      await api(g, 'DELETE', `/admin/model-mappings/${encodeURIComponent(model)}`);
      return out(g, { model, deleted: true }, `Removed the mapping of ${model}`);
    }
    case 'breakers list': {
      const res = await api<{ items: Record<string, unknown>[] }>(g, 'GET', '/admin/circuit-breakers');
      return out(g, res, table(res.items, ['access_key_id', 'state', 'failures', 'reason', 'retry_at']));
    }
    case 'breakers reset': {
      const id = need(arg, 'access key id');
      await api(g, 'POST', `/admin/circuit-breakers/${id}/reset`);
      return out(g, { access_key_id: id, state: 'closed' }, `Closed the circuit breaker of access key ${id} on every task`);
    }
    case 'audit': {
      const query = new URLSearchParams({ limit: values.limit ?? '50', offset: values.offset ?? '0' });
      for (const [flag, param] of [['action', 'action'], ['actor', 'actor'], ['target', 'target_id'], ['target-type', 'target_type'], ['since', 'since'], ['until', 'until']] as const) {
        const value = values[flag];
        if (value) query.set(param, value);
      }
      const res = await api<{ items: Record<string, unknown>[]; total: number }>(g, 'GET', `/admin/audit-log?${query}`);
      return out(g, res, `${table(res.items, ['occurred_at', 'actor', 'action', 'target_type', 'target_id', 'ip'])}\n${res.total} entr${res.total === 1 ? 'y' : 'ies'}`);
    }
    case 'usage': {
      const query = await usageQuery({ ...range, bucket: values.bucket, access_key_id: values.key, provider: values.provider, model: values.model });
      const res = await api<UsageReport>(g, 'GET', `/admin/usage?${query}`);
      const rows = [...res.buckets, { ...res.totals, start: 'total' }];
      return out(g, res, `${res.period.start} – ${res.period.end} (${res.period.timezone})\n${table(rows, ['start', 'requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'])}`);
    }
    case 'usage top': {
      const query = await usageQuery({ ...range, by: values.by, limit: values.limit === '50' ? undefined : values.limit, provider: values.provider, model: values.model });
      const res = await api<{ items: Record<string, unknown>[] }>(g, 'GET', `/admin/usage/top-users?${query}`);
      return out(g, res, table(res.items, ['name', 'user_id', 'requests', 'total_tokens', 'cost_usd']));
    }
    case 'usage breakdown': {
      const query = await usageQuery({ ...range, access_key_id: values.key, provider: values.provider });
      const res = await api<{ items: Record<string, unknown>[]; totals: Record<string, unknown> }>(g, 'GET', `/admin/usage/cost-breakdown?${query}`);
      return out(g, res, table([...res.items, { ...res.totals, provider: 'total' }], ['provider', 'model', 'requests', 'input_cost_usd', 'output_cost_usd', 'cache_read_cost_usd', 'cache_write_cost_usd', 'cost_usd']));
    }
    case 'budget': {
      const user = await findUser(g, need(action, 'user id or name'));
      const status =
        arg === undefined
          ? await api<BudgetStatus>(g, 'GET', `/admin/users/${user.id}/budget`)
          : await api<BudgetStatus>(g, 'PUT', `/admin/users/${user.id}/budget`, { monthly_budget_usd: ['none', ''].includes(arg.toLowerCase()) ? null : arg });
      const limit = status.monthly_budget_usd === null ? 'no budget' : `budget $${status.monthly_budget_usd}, $${status.remaining_usd} left (${status.percent_used}% used)`;
      return out(g, status, `${user.name}: $${status.spent_usd} spent on Bedrock and $${status.reserved_usd} held by running requests since ${status.period_start}; ${limit}; resets ${status.period_end}`);
    }
    case 'limits': {
      const user = await findUser(g, need(action, 'user id or name'));
      const limit = (flag: 'rpm' | 'in-flight'): number | null | undefined => {
        const value = values[flag];
        if (value === undefined) return undefined;
        if (value.toLowerCase() === 'none') return null;
        if (!/^[1-9]\d*$/.test(value)) throw new CliError(`--${flag} must be a whole number above 0, or none (got "${value}")`);
        return Number(value);
      };
      const changes = { max_requests_per_minute: limit('rpm'), max_in_flight: limit('in-flight') };
      const set = Object.values(changes).some((v) => v !== undefined);
      const res = set
        ? await api<{ max_requests_per_minute: number | null; max_in_flight: number | null }>(g, 'PUT', `/admin/users/${user.id}/limits`, changes)
        : await api<{ max_requests_per_minute: number | null; max_in_flight: number | null }>(g, 'GET', `/admin/users/${user.id}/limits`);
      const show = (n: number | null, what: string) => (n === null ? `no ${what} limit` : `${n} ${what}`);
      return out(g, res, `${user.name}: ${show(res.max_requests_per_minute, 'requests per minute')}, ${show(res.max_in_flight, 'in flight')} (each proxy task counts on its own)`);
    }
    case 'pricing list': {
      const query = new URLSearchParams();
      if (values.provider) query.set('provider', values.provider);
      if (values.model) query.set('model', values.model);
      if (values.current) query.set('current', 'true');
      const res = await api<{ items: Record<string, unknown>[] }>(g, 'GET', `/admin/pricing?${query}`);
      const rows = res.items.map((p) => ({ ...p, region: p.region ?? '', in_effect: p.in_effect ? 'yes' : '' }));
      const columns = ['id', 'provider', 'region', 'model', 'input_usd_per_mtok', 'output_usd_per_mtok', 'cache_write_5m_usd_per_mtok', 'cache_write_1h_usd_per_mtok', 'cache_read_usd_per_mtok', 'effective_from', 'in_effect'];
      return out(g, res, table(rows, columns));
    }
    case 'pricing add': {
      const model = need(arg, 'model');
      const price = await api<Record<string, unknown>>(g, 'POST', '/admin/pricing', {
        provider: need(values.provider, '--provider'),
        ...(values.region ? { region: values.region } : {}),
        model,
        input_usd_per_mtok: need(values.input, '--input'),
        output_usd_per_mtok: need(values.output, '--output'),
        cache_write_5m_usd_per_mtok: need(values['cache-write-5m'], '--cache-write-5m'),
        cache_write_1h_usd_per_mtok: need(values['cache-write-1h'], '--cache-write-1h'),
        cache_read_usd_per_mtok: need(values['cache-read'], '--cache-read'),
        ...(values.effective ? { effective_from: values.effective } : {}),
      });
      return out(g, price, `Added price ${String(price.id)} for ${String(price.provider)} ${String(price.model)}, in effect from ${String(price.effective_from)}`);
    }
    default:
      throw new CliError(`unknown command "${positionals.join(' ')}"; see "ccproxy --help"`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`ccproxy: ${err instanceof CliError || err instanceof TypeError ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
