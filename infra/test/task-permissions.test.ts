import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { geographiesForRegion } from '../../backend/src/bedrock/models.ts';
import { bedrockInvokeRegions, KMS_CONTEXT_KEY, PROFILE_REGIONS } from '../lib/task-permissions.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, templatesOf } from './support/app.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

/** The task role's statements in a compute template. */
function taskRoleStatements(template: Template): Statement[] {
  const [policy] = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('ProxyTaskTaskRoleDefaultPolicy'));
  expect(policy).toBeDefined();
  return (policy?.[1].Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
}

const withAction = (statements: Statement[], action: string) => {
  const found = statements.filter((s) => [s.Action].flat().includes(action));
  expect(found, action).toHaveLength(1);
  return found[0] as Statement;
};

let statements: Statement[];
let stacks: ProxyStacks;

beforeAll(() => {
  stacks = makeApp().stacks;
  statements = taskRoleStatements(templatesOf(stacks).compute);
});

describe('KMS', () => {
  it('is conditioned on the one encryption-context key the proxy sends, which must be present', () => {
    // backend/src/security/envelope.ts: EncryptionContext: { accessKeyId }
    expect(KMS_CONTEXT_KEY).toBe('accessKeyId');
    const kms = withAction(statements, 'kms:GenerateDataKey');
    expect([kms.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(kms.Condition).toEqual({
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['accessKeyId'] },
      Null: { 'kms:EncryptionContext:accessKeyId': 'false' },
    });
    expect(typeof kms.Resource).not.toBe('string'); // the key's ARN from the secrets stack, not "*"
  });
});

describe('Bedrock', () => {
  const bedrockOf = (overrides: Record<string, unknown>) =>
    withAction(taskRoleStatements(templatesOf(makeApp(overrides).stacks).compute), 'bedrock:InvokeModel');

  it('invokes only Anthropic models and profiles, never "*"', () => {
    const bedrock = withAction(statements, 'bedrock:InvokeModel');
    expect([bedrock.Action].flat().sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    const resources = bedrock.Resource as string[];
    for (const arn of resources) {
      expect(arn).not.toBe('*');
      expect(arn).toMatch(/^arn:aws:bedrock:[a-z0-9-]*:(\d{12})?:(foundation-model\/anthropic\.\*|inference-profile\/[a-z-]+\.anthropic\.\*)$/);
    }
  });

  it('from ap-northeast-2 (the example): the APAC profile regions, the global profile, and nothing in the US or EU', () => {
    const resources = withAction(statements, 'bedrock:InvokeModel').Resource as string[];
    expect(resources.sort()).toEqual(
      [
        ...PROFILE_REGIONS.apac.map((r) => `arn:aws:bedrock:${r}::foundation-model/anthropic.*`),
        'arn:aws:bedrock:::foundation-model/anthropic.*',
        'arn:aws:bedrock:ap-northeast-2:123456789012:inference-profile/apac.anthropic.*',
        'arn:aws:bedrock:ap-northeast-2:123456789012:inference-profile/global.anthropic.*',
      ].sort(),
    );
  });

  it('from us-east-1: the US profile regions and the global profile', () => {
    expect((bedrockOf({ bedrockRegion: 'us-east-1' }).Resource as string[]).sort()).toEqual(
      [
        'arn:aws:bedrock:us-east-1::foundation-model/anthropic.*',
        'arn:aws:bedrock:us-east-2::foundation-model/anthropic.*',
        'arn:aws:bedrock:us-west-1::foundation-model/anthropic.*',
        'arn:aws:bedrock:us-west-2::foundation-model/anthropic.*',
        'arn:aws:bedrock:::foundation-model/anthropic.*',
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.*',
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.*',
      ].sort(),
    );
  });

  it("follows the proxy's own choice of geographies for every region", () => {
    // Tokyo: the jp. and apac. profiles; Frankfurt: eu.; GovCloud: us-gov. only, no global profile.
    expect(geographiesForRegion('ap-northeast-1')).toEqual(['jp', 'apac', 'global']);
    expect(bedrockInvokeRegions('ap-northeast-1')).toEqual([...new Set([...PROFILE_REGIONS.jp, ...PROFILE_REGIONS.apac])].sort());
    expect(bedrockInvokeRegions('eu-central-1')).toEqual([...PROFILE_REGIONS.eu].sort());
    expect(bedrockInvokeRegions('us-gov-west-1')).toEqual(['us-gov-east-1', 'us-gov-west-1']);
    const gov = bedrockOf({ region: 'us-gov-west-1', bedrockRegion: 'us-gov-west-1' }).Resource as string[];
    // A GovCloud deployment writes its own partition into every ARN.
    expect(gov.filter((arn) => !arn.includes('inference-profile')).sort()).toEqual([
      'arn:aws-us-gov:bedrock:us-gov-east-1::foundation-model/anthropic.*',
      'arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/anthropic.*',
    ]);
    expect(gov.filter((arn) => arn.includes('inference-profile'))).toEqual([
      'arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.*',
    ]);
    // A region in no geography: itself and the global profile.
    expect(bedrockInvokeRegions('sa-east-1')).toEqual(['sa-east-1']);
  });

  it('includes the Bedrock region itself in every geography it belongs to', () => {
    for (const [geography, regions] of Object.entries(PROFILE_REGIONS)) {
      for (const region of regions) {
        expect(geographiesForRegion(region), `${region} in ${geography}`).toContain(geography);
        expect(bedrockInvokeRegions(region)).toContain(region);
      }
    }
  });
});

describe('Secrets Manager and CloudWatch', () => {
  it('reads only the three secrets the running proxy holds anyway, never the master database login', () => {
    const read = withAction(statements, 'secretsmanager:GetSecretValue');
    expect(read.Action).toBe('secretsmanager:GetSecretValue');
    const ref = (arn: string) => stacks.compute.resolve(arn) as unknown;
    expect(read.Resource).toHaveLength(3);
    expect(read.Resource).toEqual(
      expect.arrayContaining([
        ref(stacks.secrets.adminCredentials.secretArn),
        ref(stacks.secrets.keyHasherSecret.secretArn),
        ref(stacks.database.appSecret.secretArn),
      ]),
    );
    // Injected at start by the execution role, used for migrations and forgotten (backend/src/main.ts).
    expect(read.Resource).not.toContainEqual(ref(stacks.database.secret.secretArn));
    expect(JSON.stringify(read.Resource)).not.toContain('*');
  });

  it("puts metrics only into the proxy's namespace (PutMetricData has no resource-level permissions)", () => {
    const put = withAction(statements, 'cloudwatch:PutMetricData');
    expect(put.Resource).toBe('*');
    expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'ClaudeCodeProxy' } });
  });

  it('has no other statement', () => {
    expect(statements).toHaveLength(4);
  });
});
