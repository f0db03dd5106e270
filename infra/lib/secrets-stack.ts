import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { DeploymentStage } from './context.ts';

export interface SecretsStackProps extends StackProps {
  /** Name of an existing secret with a default Anthropic API key, wired in as PLAN_API_KEY. */
  readonly planApiKeySecretName?: string | undefined;
  readonly stage: DeploymentStage;
  /** Company sign-in is configured (oidcIssuer and oidcClientId): adds the OidcClientSecret secret. */
  readonly companySignIn?: boolean | undefined;
}

/** The KMS key for Bedrock API keys and the application's own secrets. */
export class SecretsStack extends Stack {
  readonly kmsKey: kms.Key;
  readonly adminCredentials: secretsmanager.Secret;
  readonly keyHasherSecret: secretsmanager.Secret;
  /** Present only when the context names a Plan key secret. */
  readonly planApiKey: secretsmanager.ISecret | undefined;
  /** OIDC_CLIENT_SECRET; present only with company sign-in. */
  readonly oidcClientSecret: secretsmanager.Secret | undefined;

  constructor(scope: Construct, id: string, props: SecretsStackProps) {
    super(scope, id, props);
    // prod keeps the key and the secrets when the stack is deleted: the retained database snapshot
    // holds Bedrock API keys only this key decrypts and access-key hashes only the key-hashing
    // secret verifies. A dev deployment is removed entirely.
    const prod = props.stage === 'prod';
    const keep = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Envelope encryption of the Bedrock API keys stored in the database; it also encrypts the
    // secrets and the log groups of the deployment.
    this.kmsKey = new kms.Key(this, 'ProxyKmsKey', {
      alias: 'alias/claude-code-proxy',
      enableKeyRotation: true,
      description: 'Claude Code Proxy: envelope encryption of Bedrock API keys, secrets and logs',
      removalPolicy: keep,
      // Deleting a key waits this long; a dev key need not linger for the default 30 days.
      ...(prod ? {} : { pendingWindow: Duration.days(7) }),
    });
    // CloudWatch Logs encrypts this account's log groups in this region with the key (the
    // container log and the PostgreSQL log); the condition stops any other use by the service.
    this.kmsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` },
        },
      }),
    );

    // The proxy forwards the client's Authorization / x-api-key by default; a default Plan key is
    // an existing secret named in context (see planApiKey below).
    this.adminCredentials = new secretsmanager.Secret(this, 'AdminCredentials', {
      secretName: 'claude-code-proxy/admin-credentials',
      description: 'Claude Code Proxy: first admin login, JSON {"username","password"} (ADMIN_CREDENTIALS)',
      encryptionKey: this.kmsKey,
      removalPolicy: keep,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'admin' }),
        generateStringKey: 'password',
      },
    });

    this.keyHasherSecret = new secretsmanager.Secret(this, 'KeyHasherSecret', {
      secretName: 'claude-code-proxy/key-hasher-secret',
      description: 'Claude Code Proxy: HMAC key of access-key hashes (KEY_HASHER_SECRET)',
      encryptionKey: this.kmsKey,
      removalPolicy: keep,
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
      },
    });

    // Both rule packs ask for automatic rotation (AwsSolutions-SMG4, NIST SecretsManagerRotationEnabled).
    const noRotation = (reason: string) => [
      { id: 'AwsSolutions-SMG4', reason },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason },
    ];
    Validations.of(this.adminCredentials).acknowledge(
      ...noRotation(
        'The admin password is a bootstrap credential read once at start-up; admins change it in the app. ' +
          'Rotating the secret would not change the stored password hash.',
      ),
    );
    Validations.of(this.keyHasherSecret).acknowledge(
      ...noRotation('Every stored access key is an HMAC under this secret: rotating it would invalidate all issued keys at once.'),
    );

    // The identity provider issues the client secret, so CDK cannot know it: the secret starts as a
    // generated placeholder that the operator replaces after the first deploy (README "Company
    // sign-in"). Until then the proxy starts, and only the company sign-in fails, at the provider.
    this.oidcClientSecret = props.companySignIn
      ? new secretsmanager.Secret(this, 'OidcClientSecret', {
          secretName: 'claude-code-proxy/oidc-client-secret',
          description: 'Claude Code Proxy: client secret of the company sign-in, issued by the identity provider (OIDC_CLIENT_SECRET)',
          encryptionKey: this.kmsKey,
          removalPolicy: keep,
          generateSecretString: { passwordLength: 32, excludePunctuation: true },
        })
      : undefined;
    if (this.oidcClientSecret) {
      Validations.of(this.oidcClientSecret).acknowledge(
        ...noRotation(
          'The identity provider issues the client secret; it is renewed there and put here by the operator, ' +
            'and ECS injects it at task start.',
        ),
      );
    }

    // The seed's "create the secret manually and wire it in": only a name is referenced, so the
    // secret (a plain string holding the key) is neither created nor deleted by CDK.
    this.planApiKey = props.planApiKeySecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, 'PlanApiKey', props.planApiKeySecretName)
      : undefined;
  }
}
