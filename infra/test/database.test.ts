import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AURORA_POSTGRES_VERSION } from '../lib/aurora-versions.ts';
import { APP_DATABASE_USER, CLUSTER_IDENTIFIER, DATABASE_NAME } from '../lib/database-stack.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, onlyResource, templatesOf } from './support/app.ts';

let stacks: ProxyStacks;
let database: Template;

beforeAll(() => {
  stacks = makeApp().stacks;
  database = templatesOf(stacks).database;
});

/** The logical id of the one resource of `type` matching `props`. */
const logicalIdOf = (template: Template, type: string, props: Record<string, unknown> = {}) => {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids, type).toHaveLength(1);
  return ids[0] as string;
};

describe('Aurora PostgreSQL Serverless v2', () => {
  it(`runs aurora-postgresql ${DEFAULT_AURORA_POSTGRES_VERSION} by default, with a parameter group of that family`, () => {
    database.hasResourceProperties('AWS::RDS::DBCluster', { Engine: 'aurora-postgresql', EngineVersion: DEFAULT_AURORA_POSTGRES_VERSION });
    database.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Family: 'aurora-postgresql17' });
  });

  it('scales between 0.5 and 4 ACU', () => {
    database.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
    });
  });

  it('has a single serverless writer', () => {
    database.resourceCountIs('AWS::RDS::DBInstance', 1);
    database.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.serverless',
      PromotionTier: 0,
      PubliclyAccessible: false,
    });
  });

  it('is encrypted and keeps 7 days of backups', () => {
    const cluster = onlyResource(database, 'AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({ StorageEncrypted: true, BackupRetentionPeriod: 7 });
  });

  it('lives in the private subnets behind the database security group', () => {
    const privateSubnets = stacks.network.vpc.privateSubnets.map((s) => s.subnetId);
    const subnetIds = stacks.database.resolve(privateSubnets) as unknown[];
    database.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: subnetIds });
    database.hasResourceProperties('AWS::RDS::DBCluster', {
      VpcSecurityGroupIds: [stacks.database.resolve(stacks.network.dbSecurityGroup.securityGroupId)],
    });
  });

  it("creates the app's own database, so both secrets' JSON carries dbname", () => {
    database.hasResourceProperties('AWS::RDS::DBCluster', { DatabaseName: DATABASE_NAME, Port: 5432 });
  });

  it('exports the PostgreSQL log into a group it creates first, with a retention period and the stack key', () => {
    const logGroupId = logicalIdOf(database, 'AWS::Logs::LogGroup');
    database.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/rds/cluster/${CLUSTER_IDENTIFIER}/postgresql`,
      RetentionInDays: 90,
      KmsKeyId: stacks.database.resolve(stacks.secrets.kmsKey.keyArn),
    });
    const cluster = onlyResource(database, 'AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({ DBClusterIdentifier: CLUSTER_IDENTIFIER, EnableCloudwatchLogsExports: ['postgresql'] });
    expect(cluster.DependsOn).toContain(logGroupId);
  });
});

describe('TLS', () => {
  it('is forced by the cluster parameter group (rds.force_ssl = 1), which the cluster uses', () => {
    const groupId = logicalIdOf(database, 'AWS::RDS::DBClusterParameterGroup');
    database.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    database.hasResourceProperties('AWS::RDS::DBCluster', { DBClusterParameterGroupName: { Ref: groupId } });
  });
});

describe('credentials', () => {
  const keyArn = () => stacks.database.resolve(stacks.secrets.kmsKey.keyArn);

  it('generates the master login postgres into a secret under the stack key, attached to the cluster', () => {
    database.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"postgres"}', GenerateStringKey: 'password' }),
      KmsKeyId: keyArn(),
    });
    database.hasResourceProperties('AWS::RDS::DBCluster', {
      MasterUsername: 'postgres',
      MasterUserPassword: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });

  it(`generates the application's login ${APP_DATABASE_USER} into its own secret under the stack key, attached to the cluster`, () => {
    const secretId = logicalIdOf(database, 'AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ username: APP_DATABASE_USER, dbname: DATABASE_NAME }),
        GenerateStringKey: 'password',
        // Characters a postgres:// URL or a connection string would need to escape.
        ExcludeCharacters: Match.stringLikeRegexp('@'),
      }),
    });
    database.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: Match.stringLikeRegexp(APP_DATABASE_USER) }),
      KmsKeyId: keyArn(),
    });
    // The attachment adds host, port and engine to the secret's JSON, as for the master secret.
    const clusterId = logicalIdOf(database, 'AWS::RDS::DBCluster');
    database.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      SecretId: { Ref: secretId },
      TargetId: { Ref: clusterId },
      TargetType: 'AWS::RDS::DBCluster',
    });
    database.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 2);
    // What the compute stack injects as DATABASE_URL is that attachment.
    const attachmentId = logicalIdOf(database, 'AWS::SecretsManager::SecretTargetAttachment', { SecretId: { Ref: secretId } });
    expect(stacks.database.resolve(stacks.database.appSecret.secretArn)).toEqual({ Ref: attachmentId });
  });
});

describe('stage', () => {
  const secretPolicies = (template: Template) =>
    Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);

  it('prod (the default): deletion protection, a final snapshot, and both secrets and the PostgreSQL log kept', () => {
    const cluster = onlyResource(database, 'AWS::RDS::DBCluster');
    expect(cluster.Properties.DeletionProtection).toBe(true);
    expect([cluster.DeletionPolicy, cluster.UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
    expect(secretPolicies(database)).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
    expect(onlyResource(database, 'AWS::Logs::LogGroup').DeletionPolicy).toBe('Retain');
  });

  it('dev: no deletion protection, and everything goes with the stack', () => {
    const dev = templatesOf(makeApp({ stage: 'dev' }).stacks).database;
    const cluster = onlyResource(dev, 'AWS::RDS::DBCluster');
    expect(cluster.Properties.DeletionProtection).toBe(false);
    expect(cluster.DeletionPolicy).toBe('Delete');
    expect(onlyResource(dev, 'AWS::RDS::DBInstance').DeletionPolicy).toBe('Delete');
    expect(secretPolicies(dev)).toEqual([
      ['Delete', 'Delete'],
      ['Delete', 'Delete'],
    ]);
    expect(onlyResource(dev, 'AWS::Logs::LogGroup').DeletionPolicy).toBe('Delete');
  });
});

describe('engine version', () => {
  it('synthesizes without warnings', () => {
    expect(Annotations.fromStack(stacks.database).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('takes another current version from context, with the parameter group of its family', () => {
    const pinned = templatesOf(makeApp({ auroraPostgresVersion: '16.13' }).stacks).database;
    pinned.hasResourceProperties('AWS::RDS::DBCluster', { EngineVersion: '16.13' });
    pinned.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql16',
      Parameters: { 'rds.force_ssl': '1' },
    });
  });
});
