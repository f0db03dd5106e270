import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAccessKeyRepository } from '../../src/db/access-key-repository.ts';
import { resolveSecrets } from '../../src/secrets.ts';
import { verifyPassword } from '../../src/security/passwords.ts';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';

let proxy: TestApp;
let configDir: string;

beforeAll(async () => {
  proxy = await startTestApp({ KEY_ROTATION_GRACE: '120' });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccproxy-admin-cli-'));
});
afterAll(async () => {
  await proxy.close();
  fs.rmSync(configDir, { recursive: true, force: true });
});

const cli = (args: string[], stdin = '') => runCli({ url: proxy.url, configDir }, args, stdin);
const json = async (args: string[], stdin = '') => {
  const res = await cli([...args, '--json'], stdin);
  if (res.code !== 0) throw new Error(`ccproxy ${args.join(' ')}: ${res.stderr}`);
  return JSON.parse(res.stdout) as Record<string, any>;
};

describe('ccproxy admin hash-password', () => {
  it('prints a scrypt hash of the password on standard input, which the server accepts in ADMIN_CREDENTIALS', async () => {
    const res = await cli(['admin', 'hash-password'], 'a-very-secret-password\n');
    expect(res.code).toBe(0);
    const hash = /^(scrypt\$\S+)$/m.exec(res.stdout)?.[1];
    expect(hash).toBeDefined();
    expect(res.stdout).not.toContain('a-very-secret-password');
    expect(res.stdout).toContain('ADMIN_CREDENTIALS=');
    expect(await verifyPassword('a-very-secret-password', hash!)).toBe(true);
    expect((await json(['admin', 'hash-password'], 'x\n')).hash).toMatch(/^scrypt\$/);
    expect((await cli(['admin', 'hash-password'], '')).stderr).toMatch(/no password on standard input/);

    // The server takes the hash as it is (it hashes only a plain password).
    const config = loadConfig({ ENVIRONMENT: 'prod', KEY_HASHER_SECRET: 'kF3q9vLx2RmT8wYp4NcZ7hJd1sGbQeUa6', KMS_KEY_ID: 'alias/x', ADMIN_CREDENTIALS: JSON.stringify({ username: 'root', password: hash }) });
    expect((await resolveSecrets(config, () => {})).admin).toEqual({ username: 'root', passwordHash: hash });
  });
});

describe('ccproxy users, keys, mappings, breakers and audit', () => {
  beforeAll(async () => {
    expect((await cli(['login'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
  });

  it('lists users with a status filter and a name search, shows, deactivates, reactivates and deletes them', async () => {
    await json(['users', 'add', 'cli-frank']);
    await json(['users', 'add', 'cli-grace']);
    expect((await json(['users', 'list', '--q', 'FRANK'])).items.map((u: { name: string }) => u.name)).toEqual(['cli-frank']);
    expect((await json(['users', 'get', 'cli-frank'])).status).toBe('active');

    const off = await cli(['users', 'deactivate', 'cli-frank']);
    expect(off.stdout).toMatch(/^User cli-frank \(.+\) is inactive$/m);
    expect((await json(['users', 'list', '--status', 'inactive'])).items.map((u: { name: string }) => u.name)).toEqual(['cli-frank']);
    expect((await cli(['users', 'reactivate', 'cli-frank'])).stdout).toMatch(/is active/);

    const refused = await cli(['users', 'delete', 'cli-grace']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
    expect((await cli(['users', 'delete', 'cli-grace', '--yes'])).stdout).toMatch(/Deleted user cli-grace/);
    expect((await json(['users', 'list', '--status', 'deleted'])).items.map((u: { name: string }) => u.name)).toEqual(['cli-grace']);
  });

  it('rotates a key and sets its Bedrock region', async () => {
    await json(['users', 'add', 'cli-hank']);
    const key = await json(['keys', 'issue', 'cli-hank']);
    const rotated = await cli(['keys', 'rotate', key.id]);
    expect(rotated.code).toBe(0);
    const newKey = /ak_[A-Za-z0-9_-]{43}/.exec(rotated.stdout)?.[0];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(key.raw_key);
    expect(rotated.stdout).toMatch(/The old key keeps working until \S+Z, then the server revokes it/);
    const keys = (await json(['keys', 'list', 'cli-hank'])).items as { id: string; status: string }[];
    expect(keys.map((k) => k.status).sort()).toEqual(['active', 'rotating']);

    const active = keys.find((k) => k.status === 'active')!;
    expect((await cli(['keys', 'region', active.id, 'us-west-2'])).stdout).toMatch(/Bedrock region us-west-2/);
    expect((await json(['keys', 'region', active.id, 'none'])).bedrock_region).toBeNull();
    expect((await cli(['keys', 'region', active.id, 'pluto'])).stderr).toMatch(/400: bedrock_region: /);
  });

  it('names a key by its prefix as keys list shows it, or says which keys a prefix matches', async () => {
    const user = await json(['users', 'add', 'cli-kit']);
    // Two keys whose prefixes share their first seven characters, written as the server writes keys.
    const repository = createAccessKeyRepository(proxy.database.db);
    const twin = async (prefix: string) => (await repository.create({ userId: user.id, keyHash: prefix.padEnd(64, '0'), keyPrefix: prefix, bedrockRegion: null })).id;
    const [first, second] = [await twin('ak_TwinKeyA'), await twin('ak_TwinKeyB')];

    const ambiguous = await cli(['keys', 'revoke', 'ak_TwinKey']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^ccproxy: prefix "ak_TwinKey" matches 2 keys: /);
    expect(ambiguous.stderr).toContain(`ak_TwinKeyA (cli-kit, active, ${first})`);
    expect(ambiguous.stderr).toContain(`ak_TwinKeyB (cli-kit, active, ${second})`);
    expect(ambiguous.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli(['keys', 'rotate', 'ak_Nowhere1'])).stderr).toBe('ccproxy: no access key with prefix "ak_Nowhere1" (see "ccproxy keys list <user>")\n');
    expect((await cli(['keys', 'revoke', 'TwinKeyA'])).stderr).toMatch(/"TwinKeyA" is neither an access key id nor a key prefix/);

    expect((await cli(['keys', 'region', 'ak_TwinKeyA', 'eu-west-1'])).stdout).toBe(`Access key ak_TwinKeyA (${first}): Bedrock region eu-west-1\n`);
    const bedrock = await cli(['keys', 'bedrock', 'ak_TwinKeyA'], 'ABSKQmVkcm9ja0FQSUtleS1wcmVmaXgtdGVzdA==\n');
    expect(bedrock.stdout).toBe(`Bedrock API key set for access key ak_TwinKeyA (${first}) (ends in …dA==)\n`);
    for (let i = 0; i < 3; i++) proxy.app.breakers.failure(first, 'upstream_529');
    expect((await cli(['breakers', 'reset', 'ak_TwinKeyA'])).code).toBe(0);
    expect(proxy.app.breakers.snapshot(first).state).toBe('closed');
    expect((await cli(['keys', 'revoke', 'ak_TwinKeyB'])).stdout).toBe(`Revoked access key ak_TwinKeyB (${second})\n`);

    // An issued key: keys issue prints both names, and the prefix then rotates it.
    const issued = await cli(['keys', 'issue', 'cli-kit']);
    const [, id, prefix] = /Key id: (\S+) {2}prefix: (ak_\S{8})/.exec(issued.stdout)!;
    const rotated = await cli(['keys', 'rotate', prefix!]);
    expect(rotated.stdout).toContain(`replacing ${prefix} (${id}):`);
    const statuses = Object.fromEntries(((await json(['keys', 'list', 'cli-kit'])).items as { id: string; status: string }[]).map((k) => [k.id, k.status]));
    expect(statuses).toMatchObject({ [first]: 'active', [second]: 'revoked', [id!]: 'rotating' });
  });

  it('sets, lists and removes model mappings', async () => {
    const set = await cli(['mappings', 'set', 'claude-cli-1', 'anthropic.claude-cli-1-v1:0', '--geographies', 'us,eu']);
    expect(set.stdout).toBe('claude-cli-1 → anthropic.claude-cli-1-v1:0 (profiles: us, eu)\n');
    const list = await cli(['mappings', 'list']);
    expect(list.stdout).toMatch(/claude-cli-1\s+anthropic\.claude-cli-1-v1:0\s+us,eu\s+admin/);
    expect(list.stdout).toMatch(/claude-sonnet-4-5\s+anthropic\.claude-sonnet-4-5-20250929-v1:0\s+\S+\s+default/);
    expect((await cli(['mappings', 'delete', 'claude-cli-1'])).stdout).toMatch(/Removed the mapping of claude-cli-1/);
    expect((await cli(['mappings', 'delete', 'claude-cli-1'])).stderr).toMatch(/404: /);
  });

  it('lists and resets circuit breakers', async () => {
    await json(['users', 'add', 'cli-ivy']);
    const key = await json(['keys', 'issue', 'cli-ivy']);
    for (let i = 0; i < 3; i++) proxy.app.breakers.failure(key.id, 'upstream_529');
    await json(['users', 'add', 'cli-jack']);
    const withBedrock = await json(['keys', 'issue', 'cli-jack']);
    expect((await cli(['keys', 'bedrock', withBedrock.id], 'ABSKQmVkcm9ja0FQSUtleS1qYWNr\n')).code).toBe(0);
    for (let i = 0; i < 3; i++) proxy.app.breakers.failure(withBedrock.id, 'upstream_529');
    const list = (await cli(['breakers', 'list'])).stdout.split('\n');
    expect(list[0]).toMatch(/^access_key_id\s+state\s+failures\s+reason\s+retry_at\s+fallback$/);
    // Without a Bedrock key the open breaker sends nothing to Bedrock: the list says why.
    expect(list.find((l) => l.startsWith(key.id))).toMatch(/^\S+\s+open\s+\d+\s+upstream_529\s+\S+\s+no Bedrock key$/);
    expect(list.find((l) => l.startsWith(withBedrock.id))).toMatch(/^\S+\s+open\s+\d+\s+upstream_529\s+\S+$/);
    expect((await json(['breakers', 'list'])).items.find((b: { access_key_id: string }) => b.access_key_id === key.id)).toMatchObject({ fallback_unavailable: 'no_bedrock_key' });
    expect((await cli(['breakers', 'reset', withBedrock.id])).code).toBe(0);
    expect((await cli(['breakers', 'reset', key.id])).stdout).toMatch(/Closed the circuit breaker/);
    expect(proxy.app.breakers.snapshot(key.id).state).toBe('closed');
  });

  it('shows the audit log with filters', async () => {
    const all = await cli(['audit', '--limit', '5']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/circuit_breaker\.reset/);
    expect(all.stdout).toMatch(/\d+ entries/);
    const deletes = await json(['audit', '--action', 'user.delete']);
    expect(deletes.items).toHaveLength(1);
    expect(deletes.items[0]).toMatchObject({ action: 'user.delete', actor: 'admin', target_type: 'user' });
    expect((await json(['audit', '--target-type', 'model_mapping'])).total).toBe(2);
    expect((await cli(['audit', '--since', 'last week'])).stderr).toMatch(/400: since: /);
  });

  it('logs out: the token stops working and is forgotten', async () => {
    const stored = JSON.parse(fs.readFileSync(path.join(configDir, 'credentials.json'), 'utf8')) as Record<string, { token: string }>;
    const token = stored[proxy.url]!.token;
    expect((await cli(['logout'])).stdout).toMatch(/Logged out/);
    expect((await cli(['users', 'list'])).stderr).toMatch(/not logged in/);
    const res = await fetch(`${proxy.url}/admin/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });
});
