import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OIDC_CALLBACK_PATH } from '../lib/company-sign-in.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { INFRA_DIR, makeApp, onlyResource, templatesOf } from './support/app.ts';

type Statement = { Action: string | string[]; Resource: unknown };
interface Container {
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets: Array<{ Name: string; ValueFrom: unknown }>;
}

const SIGN_IN = { oidcIssuer: 'https://login.example.com/oauth2/default/', oidcClientId: '0oa1example' };

function built(overrides: Record<string, unknown>) {
  const { stacks } = makeApp(overrides);
  const t = templatesOf(stacks);
  const container = (onlyResource(t.compute, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Container[])[0]!;
  const environment = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
  const injected = Object.fromEntries(container.Secrets.map((s) => [s.Name, s.ValueFrom]));
  const statements = (prefix: string) => {
    const [policy] = Object.entries(t.compute.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(prefix));
    return (policy?.[1].Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
  };
  const secretReads = (prefix: string) =>
    statements(prefix).find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))?.Resource as unknown[];
  return { stacks, t, environment, injected, secretReads };
}

let without: ReturnType<typeof built>;
let withSignIn: ReturnType<typeof built>;
/** How the compute stack refers to the OIDC client secret of the secrets stack. */
let clientSecretRef: unknown;

beforeAll(() => {
  without = built({});
  withSignIn = built({ ...SIGN_IN, oidcRoleClaim: 'groups', oidcAdminValues: 'proxy-admins, platform', oidcViewerValues: 'auditors', selfEnrolment: 'true' });
  const stacks: ProxyStacks = withSignIn.stacks;
  clientSecretRef = stacks.compute.resolve(stacks.secrets.oidcClientSecret?.secretArn);
});

describe('without oidcIssuer (the example context)', () => {
  it('has no OIDC client secret, and no OIDC_ or SELF_ENROLMENT setting in the task', () => {
    expect(without.stacks.secrets.oidcClientSecret).toBeUndefined();
    const names = Object.values(without.t.secrets.findResources('AWS::SecretsManager::Secret')).map((s) => s.Properties.Name as string);
    expect(names.sort()).toEqual(['claude-code-proxy/admin-credentials', 'claude-code-proxy/key-hasher-secret']);
    expect(JSON.stringify(without.t.secrets.toJSON())).not.toMatch(/oidc/i);
    expect(JSON.stringify(without.t.compute.toJSON())).not.toMatch(/OIDC|SELF_ENROLMENT|DEVELOPER_MAX_KEYS/);
  });
});

describe('with oidcIssuer and oidcClientId', () => {
  it('adds the secret OidcClientSecret under the stack key, retained in prod, with a placeholder to replace', () => {
    const found = Object.entries(withSignIn.t.secrets.findResources('AWS::SecretsManager::Secret')).filter(([id]) => id.startsWith('OidcClientSecret'));
    expect(found).toHaveLength(1);
    const [, secret] = found[0]!;
    const keyId = Object.keys(withSignIn.t.secrets.findResources('AWS::KMS::Key'))[0];
    expect(secret.Properties).toMatchObject({
      Name: 'claude-code-proxy/oidc-client-secret',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true },
    });
    expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    withSignIn.t.secrets.resourceCountIs('AWS::SecretsManager::Secret', 3);
  });

  it('stage dev: the secret goes with the stack', () => {
    const dev = templatesOf(makeApp({ ...SIGN_IN, stage: 'dev' }).stacks).secrets;
    const policies = Object.entries(dev.findResources('AWS::SecretsManager::Secret'))
      .filter(([id]) => id.startsWith('OidcClientSecret'))
      .map(([, s]) => [s.DeletionPolicy, s.UpdateReplacePolicy]);
    expect(policies).toEqual([['Delete', 'Delete']]);
  });

  it('injects it as OIDC_CLIENT_SECRET (the whole secret), never in the plain environment', () => {
    expect(clientSecretRef).toBeDefined();
    expect(withSignIn.injected.OIDC_CLIENT_SECRET).toEqual(clientSecretRef);
    expect(withSignIn.environment.OIDC_CLIENT_SECRET).toBeUndefined();
  });

  it('sets the issuer (as the proxy normalises it), the client id and the mapping values as plain environment', () => {
    expect(withSignIn.environment).toMatchObject({
      OIDC_ISSUER: 'https://login.example.com/oauth2/default',
      OIDC_CLIENT_ID: '0oa1example',
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ADMIN_VALUES: 'proxy-admins,platform',
      OIDC_VIEWER_VALUES: 'auditors',
      SELF_ENROLMENT: 'true',
    });
    // Unset ones keep the proxy's defaults (email, off, plan_first, 3).
    for (const name of ['OIDC_USERNAME_CLAIM', 'SELF_ENROLMENT_ROUTING', 'SELF_ENROLMENT_BUDGET', 'DEVELOPER_MAX_KEYS']) {
      expect(withSignIn.environment[name], name).toBeUndefined();
    }
    const all = built({ ...SIGN_IN, oidcUsernameClaim: 'preferred_username', selfEnrolmentRouting: 'bedrock_only', selfEnrolmentBudget: '250', developerMaxKeys: '5' });
    expect(all.environment).toMatchObject({
      OIDC_USERNAME_CLAIM: 'preferred_username',
      SELF_ENROLMENT_ROUTING: 'bedrock_only',
      SELF_ENROLMENT_BUDGET: '250',
      DEVELOPER_MAX_KEYS: '5',
    });
  });

  it("derives OIDC_REDIRECT_URL from the domain: the proxy's callback route on it", () => {
    expect(withSignIn.environment.OIDC_REDIRECT_URL).toBe('https://proxy.example.com/admin/auth/oidc/callback');
    const other = built({ ...SIGN_IN, domainName: 'ai.corp.example.com' });
    expect(other.environment.OIDC_REDIRECT_URL).toBe('https://ai.corp.example.com/admin/auth/oidc/callback');
    // The route the backend serves (its admin plugin is mounted under /admin).
    const oidc = readFileSync(path.join(INFRA_DIR, '..', 'backend', 'src', 'admin', 'oidc.ts'), 'utf8');
    expect(oidc).toContain(`'${OIDC_CALLBACK_PATH.replace('/admin', '')}'`);
  });

  it("lets the task role and the execution role read it, with the deployment's other secrets and nothing more", () => {
    // The task role: the secrets the running proxy holds (not the master database login); the
    // execution role: every secret it injects.
    const task = withSignIn.secretReads('ProxyTaskTaskRoleDefaultPolicy');
    expect(task).toHaveLength(4);
    expect(task).toContainEqual(clientSecretRef);
    const execution = withSignIn.secretReads('ProxyTaskExecutionRoleDefaultPolicy');
    expect(execution).toHaveLength(5);
    expect(execution).toContainEqual(clientSecretRef);
    expect(without.secretReads('ProxyTaskTaskRoleDefaultPolicy')).toHaveLength(3);
    expect(without.secretReads('ProxyTaskExecutionRoleDefaultPolicy')).toHaveLength(4);
  });
});

