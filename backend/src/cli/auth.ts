import type { LoginResponse } from '../admin/contract.ts';
import { hashPassword } from '../security/passwords.ts';
import { CliError, type Handler } from './context.ts';
import { api, forgetToken, saveToken } from './http.ts';
import { out } from './output.ts';
import { readSecret } from './prompt.ts';

// login, logout, admin hash-password.

const login: Handler = async ({ g, values }) => {
  const password = await readSecret(`Password for ${values.username} at ${g.url}: `);
  if (!password) throw new CliError('no password on standard input');
  const res = await api<LoginResponse>(g, 'POST', '/admin/auth/login', { username: values.username, password }, false);
  saveToken(g.url, res.access_token, res.expires_at);
  return out(g, { url: g.url, expires_at: res.expires_at }, `Logged in to ${g.url} until ${res.expires_at}`);
};

const logout: Handler = async ({ g }) => {
  await api(g, 'POST', '/admin/auth/logout');
  forgetToken(g.url);
  return out(g, { url: g.url, logged_out: true }, `Logged out of ${g.url}`);
};

const hashPasswordCommand: Handler = async ({ g }) => {
  const password = await readSecret('Password to hash: ');
  if (!password) throw new CliError('no password on standard input');
  const hash = await hashPassword(password);
  return out(g, { hash }, `${hash}\n\nUse it as the password in ADMIN_CREDENTIALS, e.g.\n  ADMIN_CREDENTIALS='${JSON.stringify({ username: 'admin', password: hash })}'`);
};

export const authCommands: Record<string, Handler> = {
  login,
  logout,
  'admin hash-password': hashPasswordCommand,
};
