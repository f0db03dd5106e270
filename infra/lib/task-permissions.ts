import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { geographiesForRegion, type BedrockGeography } from '../../backend/src/bedrock/models.ts';
import { METRIC_NAMESPACE } from '../../backend/src/observability/metric-names.ts';

/**
 * The task role: the seed's four permissions (README "Permissions"), each narrowed to what the
 * proxy does with it. Every deviation from the seed's wording is listed, with its reason, in
 * README "Deviations from the seed".
 */

/**
 * The encryption context the proxy sends with every KMS call: `{ accessKeyId: <access key id> }`
 * (backend/src/security/envelope.ts), so a wrapped data key only opens for its own row.
 */
export const KMS_CONTEXT_KEY = 'accessKeyId';

/**
 * Regions a cross-region inference profile of each geography may serve a request from
 * (Amazon Bedrock user guide, "Supported Regions and models for inference profiles"). The proxy
 * picks the geographies from the Bedrock region (backend/src/bedrock/models.ts,
 * geographiesForRegion); a `global.` profile may serve from any commercial region, which IAM sees
 * as the region-less foundation-model ARN (see bedrockResources).
 */
export const PROFILE_REGIONS: Readonly<Record<Exclude<BedrockGeography, 'global'>, readonly string[]>> = {
  us: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3'],
  apac: [
    'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
  ],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
};

/** The Bedrock region and every region its geographies' profiles route to, sorted. */
export function bedrockInvokeRegions(bedrockRegion: string): string[] {
  const regions = new Set([bedrockRegion]);
  for (const geography of geographiesForRegion(bedrockRegion)) {
    if (geography !== 'global') for (const region of PROFILE_REGIONS[geography]) regions.add(region);
  }
  return [...regions].sort();
}

/**
 * What bedrock:InvokeModel* may touch: Anthropic foundation models in those regions, the
 * region-less foundation-model ARN a `global.` profile is authorised against, and the Anthropic
 * system-defined inference profiles of the region's geographies, which are called in the Bedrock
 * region itself.
 */
export function bedrockResources(stack: Stack, bedrockRegion: string): string[] {
  const { partition, account } = stack;
  const geographies = geographiesForRegion(bedrockRegion);
  return [
    ...bedrockInvokeRegions(bedrockRegion).map((region) => `arn:${partition}:bedrock:${region}::foundation-model/anthropic.*`),
    ...(geographies.includes('global') ? [`arn:${partition}:bedrock:::foundation-model/anthropic.*`] : []),
    ...geographies.map((g) => `arn:${partition}:bedrock:${bedrockRegion}:${account}:inference-profile/${g}.anthropic.*`),
  ];
}

export interface TaskPermissionsProps {
  /** The stack's one key (SecretsStack). */
  readonly kmsKey: kms.IKey;
  /**
   * The deployment's secrets the serving process holds anyway (admin login, key-hashing secret, the
   * application's database login, and the OIDC client secret with company sign-in); never the
   * master database login, which only start-up uses.
   */
  readonly secrets: readonly secretsmanager.ISecret[];
  /** BEDROCK_REGION of the container. */
  readonly bedrockRegion: string;
}

/** Adds the proxy's permissions to its task role. */
export function grantTaskPermissions(role: iam.IRole, props: TaskPermissionsProps): void {
  const stack = Stack.of(role);

  // The seed's three KMS actions on the one key; the proxy calls only GenerateDataKey and Decrypt,
  // always with the access key id as encryption context, so a call without that context (say, a
  // Decrypt of a secret's ciphertext under the same key) is refused.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.kmsKey.keyArn],
      conditions: {
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [KMS_CONTEXT_KEY] },
        // ForAllValues alone also matches a request with no context at all.
        Null: { [`kms:EncryptionContext:${KMS_CONTEXT_KEY}`]: 'false' },
      },
    }),
  );

  // The seed's action. ECS injects every secret with the execution role and the proxy reads none
  // itself, so this reaches only what a running task holds already, never the master login.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: props.secrets.map((secret) => secret.secretArn),
    }),
  );

  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }),
  );

  // Used with BEDROCK_AUTH=sigv4 only: by default the proxy calls Bedrock with each access key's
  // own Bedrock API key, whose identity carries its own permissions.
  const bedrock = bedrockResources(stack, props.bedrockRegion);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      resources: bedrock,
    }),
  );

  Validations.of(role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions; the statement is conditioned on the ' +
        "proxy's metric namespace instead.",
    },
    // cdk-nag names each wildcard resource in its own finding.
    ...bedrock.map((arn) => ({
      id: `AwsSolutions-IAM5[Resource::${String(stack.resolve(arn))}]`,
      reason:
        'Bedrock: the Anthropic models (anthropic.*) and Anthropic inference profiles of the configured ' +
        "region's geographies, since admins map new model ids at run time; no other provider, no other region.",
    })),
    {
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "CDK's policy for the task role, attached to that role alone and deleted with it; a managed policy " +
        'would be a reusable object nothing else should attach.',
    },
  );
}
