import { RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface SecretsStackProps extends StackProps {
  /** Name of an existing secret with a default Anthropic API key, wired in as PLAN_API_KEY. */
  readonly planApiKeySecretName?: string | undefined;
}

/** The KMS key for Bedrock API keys and the application's own secrets. */
export class SecretsStack extends Stack {
  readonly kmsKey: kms.Key;
  readonly adminCredentials: secretsmanager.Secret;
  readonly keyHasherSecret: secretsmanager.Secret;
  /** Present only when the context names a Plan key secret. */
  readonly planApiKey: secretsmanager.ISecret | undefined;

  constructor(scope: Construct, id: string, props: SecretsStackProps) {
    super(scope, id, props);

    // Envelope encryption of the Bedrock API keys stored in the database. Retained when the stack
    // is destroyed: the database snapshot holds keys that only this key can decrypt.
    this.kmsKey = new kms.Key(this, 'ProxyKmsKey', {
      alias: 'alias/claude-code-proxy',
      enableKeyRotation: true,
      description: 'Claude Code Proxy: envelope encryption of Bedrock API keys',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The proxy forwards the client's Authorization / x-api-key by default; a default Plan key is
    // an existing secret named in context (see planApiKey below).
    this.adminCredentials = new secretsmanager.Secret(this, 'AdminCredentials', {
      secretName: 'claude-code-proxy/admin-credentials',
      description: 'Claude Code Proxy: first admin login, JSON {"username","password"} (ADMIN_CREDENTIALS)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'admin' }),
        generateStringKey: 'password',
      },
    });

    this.keyHasherSecret = new secretsmanager.Secret(this, 'KeyHasherSecret', {
      secretName: 'claude-code-proxy/key-hasher-secret',
      description: 'Claude Code Proxy: HMAC key of access-key hashes (KEY_HASHER_SECRET)',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
      },
    });

    Validations.of(this.adminCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin password is a bootstrap credential read once at start-up; admins change it in the app. ' +
        'Rotating the secret would not change the stored password hash.',
    });
    Validations.of(this.keyHasherSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Every stored access key is an HMAC under this secret: rotating it would invalidate all issued keys at once.',
    });

    // The seed's "create the secret manually and wire it in": only a name is referenced, so the
    // secret (a plain string holding the key) is neither created nor deleted by CDK.
    this.planApiKey = props.planApiKeySecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, 'PlanApiKey', props.planApiKeySecretName)
      : undefined;
  }
}
