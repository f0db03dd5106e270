import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, onlyResource, templatesOf } from './support/app.ts';

let stacks: ProxyStacks;
let secrets: Template;

beforeAll(() => {
  stacks = makeApp().stacks;
  secrets = templatesOf(stacks).secrets;
});

describe('KMS key', () => {
  it('rotates, and is retained when the stack is destroyed (the database holds data only it decrypts)', () => {
    const key = onlyResource(secrets, 'AWS::KMS::Key');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(key.Properties.PendingWindowInDays).toBeUndefined();
    expect([key.DeletionPolicy, key.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('lets CloudWatch Logs use it only for log groups of this account and region', () => {
    const policy = onlyResource(secrets, 'AWS::KMS::Key').Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> };
    const forLogs = policy.Statement.filter((s) => JSON.stringify(s.Principal).includes('logs.'));
    expect(forLogs).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'logs.ap-northeast-2.amazonaws.com' },
        Resource: '*',
        Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:ap-northeast-2:123456789012:log-group:*' } },
      }),
    ]);
    expect(forLogs[0]?.Action).not.toContain('kms:*');
  });

  it('is named alias/claude-code-proxy', () => {
    const keyId = Object.keys(secrets.findResources('AWS::KMS::Key'))[0];
    secrets.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/claude-code-proxy',
      TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
  });
});

describe('secrets', () => {
  it('creates exactly the two secrets of the seed, encrypted with the key and retained in prod', () => {
    secrets.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const keyId = Object.keys(secrets.findResources('AWS::KMS::Key'))[0];
    for (const secret of Object.values(secrets.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  it('stage dev: the key (after the shortest waiting period) and the secrets go with the stack', () => {
    const dev = templatesOf(makeApp({ stage: 'dev' }).stacks).secrets;
    const key = onlyResource(dev, 'AWS::KMS::Key');
    expect([key.DeletionPolicy, key.Properties.PendingWindowInDays]).toEqual(['Delete', 7]);
    const policies = Object.values(dev.findResources('AWS::SecretsManager::Secret')).map((s) => s.DeletionPolicy);
    expect(policies).toEqual(['Delete', 'Delete']);
  });

  it('generates the admin credentials as {"username":"admin","password":<generated>}', () => {
    secrets.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'claude-code-proxy/admin-credentials',
      GenerateSecretString: { SecretStringTemplate: '{"username":"admin"}', GenerateStringKey: 'password' },
    });
  });

  it('generates the key hasher secret as 64 characters without punctuation', () => {
    secrets.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'claude-code-proxy/key-hasher-secret',
      GenerateSecretString: Match.objectEquals({ PasswordLength: 64, ExcludePunctuation: true }),
    });
  });
});

describe('default Plan key', () => {
  it('is absent unless the context names a secret', () => {
    expect(stacks.secrets.planApiKey).toBeUndefined();
  });

  it('references the named secret without creating or owning it', () => {
    const withKey = makeApp({ planApiKeySecretName: 'team/anthropic-key' }).stacks;
    const arn = JSON.stringify(withKey.secrets.resolve(withKey.secrets.planApiKey?.secretArn));
    expect(arn).toBe('"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:team/anthropic-key"');
    templatesOf(withKey).secrets.resourceCountIs('AWS::SecretsManager::Secret', 2);
  });
});
