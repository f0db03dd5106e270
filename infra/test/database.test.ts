import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_NAME, RETIRED_ENGINE_WARNING } from '../lib/database-stack.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, onlyResource, templatesOf } from './support/app.ts';

let stacks: ProxyStacks;
let database: Template;

beforeAll(() => {
  stacks = makeApp({}, { keepWarnings: true }).stacks;
  database = templatesOf(stacks).database;
});

describe('Aurora PostgreSQL Serverless v2', () => {
  it('runs aurora-postgresql 15.4, the seed version, by default', () => {
    database.hasResourceProperties('AWS::RDS::DBCluster', { Engine: 'aurora-postgresql', EngineVersion: '15.4' });
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

  it('is encrypted, keeps 7 days of backups, and snapshots on deletion', () => {
    const cluster = onlyResource(database, 'AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({ StorageEncrypted: true, BackupRetentionPeriod: 7 });
    expect(cluster.DeletionPolicy).toBe('Snapshot');
  });

  it('lives in the private subnets behind the database security group', () => {
    const privateSubnets = stacks.network.vpc.privateSubnets.map((s) => s.subnetId);
    const subnetIds = stacks.database.resolve(privateSubnets) as unknown[];
    database.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: subnetIds });
    database.hasResourceProperties('AWS::RDS::DBCluster', {
      VpcSecurityGroupIds: [stacks.database.resolve(stacks.network.dbSecurityGroup.securityGroupId)],
    });
  });

  it('generates the credentials of user postgres into a secret attached to the cluster', () => {
    database.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"postgres"}', GenerateStringKey: 'password' }),
    });
    database.hasResourceProperties('AWS::RDS::DBCluster', {
      MasterUsername: 'postgres',
      MasterUserPassword: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    database.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', { TargetType: 'AWS::RDS::DBCluster' });
  });

  it("creates the app's own database, so the secret's JSON carries dbname", () => {
    database.hasResourceProperties('AWS::RDS::DBCluster', { DatabaseName: DATABASE_NAME, Port: 5432 });
  });
});

describe('engine version', () => {
  it('warns at synthesis that RDS no longer creates 15.4 clusters', () => {
    Annotations.fromStack(stacks.database).hasWarning(
      '/DatabaseStack',
      Match.stringLikeRegexp(`Aurora PostgreSQL 15\\.4 is no longer offered.*databaseEngineVersion.*\\[ack: .*${RETIRED_ENGINE_WARNING}\\]`),
    );
  });

  it('takes a current 15.x from context, without the warning', () => {
    const current = makeApp({ databaseEngineVersion: '15.17' }, { keepWarnings: true }).stacks;
    templatesOf(current).database.hasResourceProperties('AWS::RDS::DBCluster', {
      EngineVersion: '15.17',
      DBClusterParameterGroupName: 'default.aurora-postgresql15',
    });
    expect(Annotations.fromStack(current.database).findWarning('*', Match.anyValue())).toEqual([]);
  });
});
