import { Annotations, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { RETIRED_ENGINE_VERSIONS } from './context.ts';

export const RETIRED_ENGINE_WARNING = 'ccproxy:retired-engine-version';

/** Database the app connects to; it appears as `dbname` in the generated secret. */
export const DATABASE_NAME = 'claude_code_proxy';

export interface DatabaseStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly dbSecurityGroup: ec2.ISecurityGroup;
  /** Aurora PostgreSQL version, "15.<minor>"; the seed's is 15.4. */
  readonly engineVersion: string;
}

/** Aurora PostgreSQL Serverless v2 holding users, keys, usage and audit data. */
export class DatabaseStack extends Stack {
  readonly cluster: rds.DatabaseCluster;
  /** Generated credentials; ECS injects the JSON as DATABASE_URL. */
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);

    // The seed pins 15.4. RDS no longer creates clusters on retired minors, so the version is a
    // context value (same major) and synthesis warns when a retired one is chosen.
    const engineVersion = rds.AuroraPostgresEngineVersion.of(props.engineVersion, '15');
    if (RETIRED_ENGINE_VERSIONS.includes(props.engineVersion)) {
      Annotations.of(this).addWarningV2(
        RETIRED_ENGINE_WARNING,
        `Aurora PostgreSQL ${props.engineVersion} is no longer offered by Amazon RDS for new clusters; ` +
          'deploy a new cluster with -c databaseEngineVersion=<current 15.x>, e.g. 15.17.',
      );
    }

    this.cluster = new rds.DatabaseCluster(this, 'ProxyDb', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: engineVersion }),
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 4,
      writer: rds.ClusterInstance.serverlessV2('writer'),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.dbSecurityGroup],
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      credentials: rds.Credentials.fromGeneratedSecret('postgres'),
      // Not in the seed: a database of the app's own (instead of the `postgres` maintenance
      // database), which also puts `dbname` into the secret the app reads.
      defaultDatabaseName: DATABASE_NAME,
    });

    if (!this.cluster.secret) throw new Error('DatabaseCluster did not generate a secret');
    this.secret = this.cluster.secret;

    Validations.of(this.cluster).acknowledge(
      {
        id: 'AwsSolutions-RDS6',
        reason: 'The app authenticates with the generated password secret the seed specifies, not IAM tokens.',
      },
      {
        id: 'AwsSolutions-RDS10',
        reason:
          'Single dev environment that `cdk destroy --all` must remove; the default removal policy still takes a final snapshot.',
      },
    );
    // The generated secret itself (the cluster exposes its attachment as `secret`).
    Validations.of(this.cluster.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ECS injects the credentials into the task at start; rotation would break new connections of running ' +
        'tasks until they are replaced.',
    });
  }
}
