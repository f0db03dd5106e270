import { ApiError, extractApiError } from './api-error.ts';
import type {
  AccessKeyListItem,
  AuditPage,
  BedrockKeyStatus,
  BudgetStatus,
  CostBreakdown,
  FallbackReport,
  IssuedKey,
  LoginResponse,
  ModelMapping,
  ModelMappings,
  PlanReport,
  PlanSettings,
  PlanWindowList,
  Price,
  PutPlanSettingsBody,
  PutMappingBody,
  RotatedKey,
  Session,
  TopUsers,
  UpdateUserBody,
  UsageReport,
  User,
  UserListQuery,
  UserPage,
} from '../../../backend/src/admin/contract.ts';
import type { ApiToken, ApiTokenRole, CreatedApiToken, ErrorReport, FallbackReadiness, Limits, RequestLogPage, UserEmail } from './types.ts';

// Every call goes to /admin on this origin with the session cookie (HttpOnly: this code never
// sees it, and no token is ever kept in storage). A 401 tells the app to show the login page.

type Query = Record<string, string | number | boolean | undefined | null>;

let onUnauthorized: () => void = () => {};
/** The app's reaction to an expired or revoked session. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown; quiet401?: boolean } = {}): Promise<T> {
  const response = await fetch(`/admin${path}${queryString(options.query)}`, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  if (!response.ok) {
    const error = extractApiError(response.status, await response.text(), response.headers.get('retry-after'));
    if (response.status === 401 && !options.quiet401) onUnauthorized();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const id = encodeURIComponent;

export const api = {
  login: (username: string, password: string) => request<LoginResponse>('POST', '/auth/login', { body: { username, password }, quiet401: true }),
  logout: () => request<void>('POST', '/auth/logout'),
  /** The current session, or null when not signed in. */
  session: async (): Promise<Session | null> => {
    try {
      return await request<Session>('GET', '/auth/session', { quiet401: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },

  /** How one may sign in: company sign-in (OIDC_ISSUER) or only the password. */
  authMethods: () => request<{ oidc: { issuer: string; login_url: string } | null }>('GET', '/auth/methods', { quiet401: true }),

  // A signed-in person's own things (README "Sign-in and roles"): the /admin/me routes.
  me: () => request<User & { max_live_keys: number | null }>('GET', '/me'),
  myAccessKeys: () => request<{ items: AccessKeyListItem[] }>('GET', '/me/access-keys'),
  issueMyKey: (region: string | null) => request<IssuedKey>('POST', '/me/access-keys', { body: { bedrock_region: region } }),
  rotateMyKey: (keyId: string) => request<RotatedKey>('POST', `/me/access-keys/${id(keyId)}/rotate`),
  revokeMyKey: (keyId: string) => request<void>('DELETE', `/me/access-keys/${id(keyId)}`),
  putMyBedrockKey: (keyId: string, key: string) => request<BedrockKeyStatus>('PUT', `/me/access-keys/${id(keyId)}/bedrock-key`, { body: { bedrock_api_key: key } }),
  deleteMyBedrockKey: (keyId: string) => request<void>('DELETE', `/me/access-keys/${id(keyId)}/bedrock-key`),
  myUsage: (query: Query) => request<UsageReport>('GET', '/me/usage', { query }),
  myBudget: () => request<BudgetStatus>('GET', '/me/budget'),
  myPlanWindows: () => request<PlanWindowList>('GET', '/me/plan-windows'),

  users: (query: UserListQuery) => request<UserPage>('GET', '/users', { query }),
  user: (userId: string) => request<User>('GET', `/users/${id(userId)}`),
  createUser: (body: { name: string; description: string | null }) => request<User>('POST', '/users', { body }),
  updateUser: (userId: string, body: Pick<UpdateUserBody, 'name' | 'description' | 'routing_strategy'>) =>
    request<User>('PATCH', `/users/${id(userId)}`, { body }),
  /** The email company sign-in links a person to; null removes it. */
  setUserEmail: (userId: string, email: string | null) => request<UserEmail>('PUT', `/users/${id(userId)}/email`, { body: { email } }),
  setUserStatus: (userId: string, verb: 'deactivate' | 'reactivate') => request<User>('POST', `/users/${id(userId)}/${verb}`),
  deleteUser: (userId: string) => request<void>('DELETE', `/users/${id(userId)}`),

  budget: (userId: string) => request<BudgetStatus>('GET', `/users/${id(userId)}/budget`),
  setBudget: (userId: string, amount: string | null) => request<BudgetStatus>('PUT', `/users/${id(userId)}/budget`, { body: { monthly_budget_usd: amount } }),

  accessKeys: (userId: string) => request<{ items: AccessKeyListItem[] }>('GET', `/users/${id(userId)}/access-keys`),
  issueKey: (userId: string, region: string | null) => request<IssuedKey>('POST', `/users/${id(userId)}/access-keys`, { body: { bedrock_region: region } }),
  rotateKey: (keyId: string) => request<RotatedKey>('POST', `/access-keys/${id(keyId)}/rotate`),
  revokeKey: (keyId: string) => request<void>('DELETE', `/access-keys/${id(keyId)}`),

  putBedrockKey: (keyId: string, key: string) => request<BedrockKeyStatus>('PUT', `/access-keys/${id(keyId)}/bedrock-key`, { body: { bedrock_api_key: key } }),
  deleteBedrockKey: (keyId: string) => request<void>('DELETE', `/access-keys/${id(keyId)}/bedrock-key`),

  resetBreaker: (keyId: string) => request<void>('POST', `/circuit-breakers/${id(keyId)}/reset`),

  planWindows: (userId?: string) => request<PlanWindowList>('GET', '/plan-windows', { query: { user_id: userId } }),
  planSettings: (userId: string) => request<PlanSettings>('GET', `/users/${id(userId)}/plan`),
  setPlanSettings: (userId: string, body: PutPlanSettingsBody) => request<PlanSettings>('PUT', `/users/${id(userId)}/plan`, { body }),

  usage: (query: Query) => request<UsageReport>('GET', '/usage', { query }),
  topUsers: (query: Query) => request<TopUsers>('GET', '/usage/top-users', { query }),
  costBreakdown: (query: Query) => request<CostBreakdown>('GET', '/usage/cost-breakdown', { query }),
  fallbacks: (query: Query) => request<FallbackReport>('GET', '/usage/fallbacks', { query }),
  planReport: (query: Query) => request<PlanReport>('GET', '/usage/plan', { query }),

  prices: (query: { current?: boolean; provider?: string }) => request<{ items: Price[] }>('GET', '/pricing', { query }),
  addPrice: (body: Record<string, unknown>) => request<Price>('POST', '/pricing', { body }),
  cancelPrice: (priceId: string) => request<void>('DELETE', `/pricing/${id(priceId)}`),

  mappings: () => request<ModelMappings>('GET', '/model-mappings'),
  // The form sends the geographies as ticked; the server's validation names one it does not know.
  putMapping: (model: string, body: Pick<PutMappingBody, 'base_id'> & { geographies: string[] }) => request<ModelMapping>('PUT', `/model-mappings/${id(model)}`, { body }),
  deleteMapping: (model: string) => request<void>('DELETE', `/model-mappings/${id(model)}`),

  apiTokens: () => request<{ items: ApiToken[] }>('GET', '/tokens'),
  createApiToken: (body: { name: string; role: ApiTokenRole; expires_in_days: number }) => request<CreatedApiToken>('POST', '/tokens', { body }),
  revokeApiToken: (tokenId: string) => request<void>('DELETE', `/tokens/${id(tokenId)}`),

  auditLog: (query: Query) => request<AuditPage>('GET', '/audit-log', { query }),

  requests: (query: Query) => request<RequestLogPage>('GET', '/requests', { query }),
  errors: (query: Query) => request<ErrorReport>('GET', '/usage/errors', { query }),
  fallbackReadiness: () => request<FallbackReadiness>('GET', '/fallback-readiness'),
  limits: (userId: string) => request<Limits>('GET', `/users/${id(userId)}/limits`),
  setLimits: (userId: string, body: { max_requests_per_minute: number | null; max_in_flight: number | null }) =>
    request<Limits>('PUT', `/users/${id(userId)}/limits`, { body }),
};

let timeZone: Promise<string> | undefined;
/**
 * The server's TIMEZONE, in which every instant on the dashboard is shown (one zone on every
 * page). Asked once, from the smallest report that names it (a developer may read only their own
 * reports); a failed ask is asked again next time.
 */
export function serverTimeZone(role?: Session['role']): Promise<string> {
  const ask = () => (role === 'developer' ? api.myPlanWindows().then((r) => r.timezone) : api.fallbacks({ period: 'day' }).then((r) => r.period.timezone));
  timeZone ??= ask().catch((err: unknown) => {
    timeZone = undefined;
    throw err;
  });
  return timeZone;
}
