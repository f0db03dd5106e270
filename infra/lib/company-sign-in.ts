import type { DeploymentConfig } from './context.ts';

/**
 * Company sign-in (OpenID Connect, README "Company sign-in"): what the context turns into for the
 * container. The client secret itself is a secret of the secrets stack (OidcClientSecret).
 */

/** Where the identity provider sends the browser back (backend/src/admin/oidc.ts). */
export const OIDC_CALLBACK_PATH = '/admin/auth/oidc/callback';

export interface CompanySignIn {
  readonly issuer: string;
  readonly clientId: string;
  /** Only what the context sets: the proxy's own defaults apply otherwise. */
  readonly settings: Readonly<Record<string, string>>;
}

/** The settings when the context names an issuer (parseContext then guarantees a client id), else undefined. */
export function companySignInOf(config: DeploymentConfig): CompanySignIn | undefined {
  if (config.oidcIssuer === undefined || config.oidcClientId === undefined) return undefined;
  const entries: [string, string | boolean | undefined][] = [
    ['OIDC_USERNAME_CLAIM', config.oidcUsernameClaim],
    ['OIDC_ROLE_CLAIM', config.oidcRoleClaim],
    ['OIDC_ADMIN_VALUES', config.oidcAdminValues],
    ['OIDC_VIEWER_VALUES', config.oidcViewerValues],
    ['SELF_ENROLMENT', config.selfEnrolment],
    ['SELF_ENROLMENT_ROUTING', config.selfEnrolmentRouting],
    ['SELF_ENROLMENT_BUDGET', config.selfEnrolmentBudget],
    ['DEVELOPER_MAX_KEYS', config.developerMaxKeys],
  ];
  const settings: Record<string, string> = {};
  for (const [name, value] of entries) if (value !== undefined) settings[name] = String(value);
  return { issuer: config.oidcIssuer, clientId: config.oidcClientId, settings };
}

/** The callback URL on the deployment's own domain, the one to register with the identity provider. */
export function oidcRedirectUrl(domainName: string): string {
  return `https://${domainName}${OIDC_CALLBACK_PATH}`;
}

/** The container's plain environment for company sign-in (the client secret is injected separately). */
export function companySignInEnvironment(signIn: CompanySignIn, domainName: string): Record<string, string> {
  return {
    OIDC_ISSUER: signIn.issuer,
    OIDC_CLIENT_ID: signIn.clientId,
    // Fixed rather than derived per request from the Host header, which the load balancer passes on as the client sent it.
    OIDC_REDIRECT_URL: oidcRedirectUrl(domainName),
    ...signIn.settings,
  };
}
