import type { Static } from 'typebox';
import type { RoutingStrategy, UpdateUserBody, User, UserPage } from '../admin/contract.ts';
import type * as S from '../admin/schemas.ts';
import { CliError, need, type Handler } from './context.ts';
import { api, findUser } from './http.ts';
import { out, table } from './output.ts';

// users add|list|get|set|set-email|deactivate|reactivate|delete.

const ROUTING: readonly string[] = ['plan_first', 'bedrock_only', 'plan_only'] satisfies RoutingStrategy[];

export const userCommands: Record<string, Handler> = {
  'users add': async ({ g, values, action, arg }) => {
    const user = await api<User>(g, 'POST', '/admin/users', { name: need(action && arg, 'user name'), ...(values.description ? { description: values.description } : {}) });
    return out(g, user, `Created user ${user.name} (${user.id})`);
  },

  'users list': async ({ g, values }) => {
    const query = new URLSearchParams({ limit: values.limit ?? '50', offset: values.offset ?? '0' });
    if (values.status) query.set('status', values.status);
    if (values.q) query.set('q', values.q);
    const page = await api<UserPage>(g, 'GET', `/admin/users?${query}`);
    return out(g, page, `${table(page.items, ['id', 'name', 'email', 'status', 'routing_strategy', 'created_at'])}\n${page.total} user(s)`);
  },

  'users set': async ({ g, values, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    const changes: { [K in keyof UpdateUserBody]?: unknown } = {};
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
  },

  // The email company sign-in links a person to (README "Sign-in and roles"); "-" removes it.
  'users set-email': async ({ g, positionals, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    const given = need(positionals[3], 'email (or "-" to remove it)').trim();
    const email = given === '-' ? null : given;
    const saved = await api<Static<typeof S.UserEmail>>(g, 'PUT', `/admin/users/${user.id}/email`, { email });
    const said = saved.email === null ? 'no email (company sign-in cannot link to them)' : `email ${saved.email}`;
    return out(g, saved, `User ${user.name} (${user.id}) has ${said}`);
  },

  'users get': async ({ g, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    return out(g, user, table([user], ['id', 'name', 'email', 'status', 'routing_strategy', 'monthly_budget_usd', 'created_at']));
  },

  'users deactivate': (command) => setStatus(command),
  'users reactivate': (command) => setStatus(command),

  'users delete': async ({ g, values, arg }) => {
    const user = await findUser(g, need(arg, 'user id or name'));
    if (!values.yes) throw new CliError(`deleting ${user.name} revokes all of their keys at once; add --yes to confirm`);
    await api(g, 'DELETE', `/admin/users/${user.id}`);
    return out(g, { id: user.id, status: 'deleted' }, `Deleted user ${user.name} (${user.id}); their keys are revoked, their usage is kept`);
  },
};

const setStatus: Handler = async ({ g, action, arg }) => {
  const user = await findUser(g, need(arg, 'user id or name'));
  const updated = await api<User>(g, 'POST', `/admin/users/${user.id}/${action}`);
  return out(g, updated, `User ${updated.name} (${updated.id}) is ${updated.status}`);
};
