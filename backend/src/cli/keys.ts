import type { AccessKey, AccessKeyList, BedrockKeyStatus, IssuedKey, RotatedKey } from '../admin/contract.ts';
import { CliError, need, type Handler } from './context.ts';
import { api, findKey, findUser } from './http.ts';
import { out, table } from './output.ts';
import { readSecret } from './prompt.ts';

// keys issue|list|revoke|rotate|region|bedrock. A key is named by its id or its prefix (findKey).

export const keyCommands: Record<string, Handler> = {
  'keys bedrock': async ({ g, values, positionals, arg }) => {
    const ref = need(arg, 'access key id or prefix');
    if (positionals.length > 3) throw new CliError('the Bedrock API key is read from standard input, never from arguments');
    const { id, label } = await findKey(g, ref);
    if (values.delete) {
      await api(g, 'DELETE', `/admin/access-keys/${id}/bedrock-key`);
      return out(g, { access_key_id: id, configured: false }, `Removed the Bedrock API key of access key ${label}`);
    }
    const bedrockApiKey = (await readSecret(`Bedrock API key for access key ${label}: `)).trim();
    if (!bedrockApiKey) throw new CliError('no Bedrock API key on standard input');
    const status = await api<BedrockKeyStatus>(g, 'PUT', `/admin/access-keys/${id}/bedrock-key`, { bedrock_api_key: bedrockApiKey });
    return out(g, status, `Bedrock API key set for access key ${label} (ends in …${status.last4})`);
  },

  'keys issue': async ({ g, values, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    const key = await api<IssuedKey>(g, 'POST', `/admin/users/${user.id}/access-keys`, values['bedrock-region'] ? { bedrock_region: values['bedrock-region'] } : {});
    const baseUrl = `${g.url}/ak/${key.raw_key}`;
    // Claude Code's settings.json: the proxy, and the developer's Plan window and spend as its status line (README "Plan window").
    const settings = {
      env: { ANTHROPIC_BASE_URL: baseUrl },
      statusLine: { type: 'command', command: `curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' ${baseUrl}/status` },
    };
    return out(
      g,
      key,
      `Access key for ${user.name} (shown only now):\n\n  ${key.raw_key}\n\n` +
        `Key id: ${key.id}  prefix: ${key.key_prefix}  (keys bedrock|region|rotate|revoke take either)\n\n` +
        `Point Claude Code at it:\n  export ANTHROPIC_BASE_URL=${baseUrl}\n\n` +
        `or in its settings.json (~/.claude/settings.json), with the status line:\n${JSON.stringify(settings, null, 2)}\n`,
    );
  },

  'keys list': async ({ g, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    const res = await api<AccessKeyList>(g, 'GET', `/admin/users/${user.id}/access-keys`);
    return out(g, res, table(res.items, ['id', 'key_prefix', 'status', 'bedrock_region', 'has_bedrock_key', 'rotation_expires_at', 'created_at']));
  },

  'keys revoke': async ({ g, arg }) => {
    const { id, label } = await findKey(g, need(arg, 'access key id or prefix'));
    await api(g, 'DELETE', `/admin/access-keys/${id}`);
    return out(g, { id, status: 'revoked' }, `Revoked access key ${label}`);
  },

  'keys rotate': async ({ g, arg }) => {
    const { id, label } = await findKey(g, need(arg, 'access key id or prefix'));
    const key = await api<RotatedKey>(g, 'POST', `/admin/access-keys/${id}/rotate`);
    return out(
      g,
      key,
      `New access key (shown only now), replacing ${label}:\n\n  ${key.raw_key}\n\n` +
        `Key id: ${key.id}  prefix: ${key.key_prefix}\n` +
        `The old key keeps working until ${key.replaces.rotation_expires_at}, then the server revokes it.\n`,
    );
  },

  'keys region': async ({ g, positionals, arg }) => {
    const { id, label } = await findKey(g, need(arg, 'access key id or prefix'));
    const region = need(positionals[3], 'region (or "none")');
    const key = await api<AccessKey>(g, 'PATCH', `/admin/access-keys/${id}`, { bedrock_region: region.toLowerCase() === 'none' ? null : region });
    return out(g, key, `Access key ${label}: Bedrock region ${key.bedrock_region ?? 'BEDROCK_REGION (server default)'}`);
  },
};
