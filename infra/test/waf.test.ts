import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { ADMIN_LOGIN_PATH, BODY_RULES, CLAUDE_CODE_PATHS, LOGIN_RATE_LIMIT, LOGIN_RATE_WINDOW_SECONDS } from '../lib/waf.ts';
import { makeApp, onlyResource, templatesOf } from './support/app.ts';

interface Rule {
  Name: string;
  Priority: number;
  Action?: Record<string, unknown>;
  OverrideAction?: Record<string, unknown>;
  Statement: Record<string, unknown>;
  VisibilityConfig: { SampledRequestsEnabled: boolean; CloudWatchMetricsEnabled: boolean };
}
interface ManagedGroup {
  VendorName: string;
  Name: string;
  RuleActionOverrides?: Array<{ Name: string; ActionToUse: Record<string, unknown> }>;
}

let stacks: ProxyStacks;
let compute: Template;
let acl: Record<string, unknown>;
let rules: Rule[];

beforeAll(() => {
  stacks = makeApp().stacks;
  compute = templatesOf(stacks).compute;
  acl = onlyResource(compute, 'AWS::WAFv2::WebACL').Properties;
  rules = acl.Rules as Rule[];
});

const rule = (name: string): Rule => {
  const found = rules.find((r) => r.Name === name);
  if (!found) throw new Error(`no rule ${name}`);
  return found;
};
const group = (name: string): ManagedGroup => (rule(`AWS-${name}`).Statement as { ManagedRuleGroupStatement: ManagedGroup }).ManagedRuleGroupStatement;
const logicalId = (type: string) => Object.keys(compute.findResources(type))[0] as string;

/** The messages-path pattern as WAF applies it: a regular expression on the raw URI path. */
const claudeCodePath = new RegExp(CLAUDE_CODE_PATHS);

describe('web ACL', () => {
  it('is a regional web ACL that allows what no rule blocks, associated with the load balancer', () => {
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    compute.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    compute.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: logicalId('AWS::ElasticLoadBalancingV2::LoadBalancer') },
      WebACLArn: { 'Fn::GetAtt': [logicalId('AWS::WAFv2::WebACL'), 'Arn'] },
    });
  });

  it('runs the rules in this order, with distinct priorities', () => {
    expect([...rules].sort((a, b) => a.Priority - b.Priority).map((r) => r.Name)).toEqual([
      'AWS-AWSManagedRulesAmazonIpReputationList',
      'AWS-AWSManagedRulesAnonymousIpList',
      'AdminLoginRateLimit',
      'AWS-AWSManagedRulesCommonRuleSet',
      'AWS-AWSManagedRulesKnownBadInputsRuleSet',
      'BlockBodySignaturesOutsideClaudeCode',
    ]);
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
  });

  it('uses AWS managed rule groups by their vendor and name, unpinned (AWS keeps the default version current)', () => {
    for (const name of ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']) {
      expect(group(name).VendorName, name).toBe('AWS');
      expect(group(name).Name).toBe(name);
      expect(group(name)).not.toHaveProperty('Version');
    }
  });

  it('blocks on IP reputation and only counts anonymous addresses (VPN users must get in)', () => {
    expect(rule('AWS-AWSManagedRulesAmazonIpReputationList').OverrideAction).toEqual({ None: {} });
    expect(rule('AWS-AWSManagedRulesAnonymousIpList').OverrideAction).toEqual({ Count: {} });
  });

  it('keeps sampled requests off everywhere: they would show the access key in the path', () => {
    expect((acl.VisibilityConfig as Rule['VisibilityConfig']).SampledRequestsEnabled).toBe(false);
    for (const r of rules) {
      expect(r.VisibilityConfig.SampledRequestsEnabled, r.Name).toBe(false);
      expect(r.VisibilityConfig.CloudWatchMetricsEnabled, r.Name).toBe(true);
    }
  });
});

describe('admin login rate limit', () => {
  it(`blocks an address after ${LOGIN_RATE_LIMIT} POSTs to ${ADMIN_LOGIN_PATH} within ${LOGIN_RATE_WINDOW_SECONDS} s`, () => {
    const limit = rule('AdminLoginRateLimit');
    expect(limit.Action).toEqual({ Block: {} });
    expect(limit.Statement).toEqual({
      RateBasedStatement: {
        Limit: 50,
        EvaluationWindowSec: 300,
        AggregateKeyType: 'IP',
        ScopeDownStatement: {
          AndStatement: {
            Statements: [
              {
                ByteMatchStatement: {
                  FieldToMatch: { UriPath: {} },
                  PositionalConstraint: 'EXACTLY',
                  SearchString: '/admin/auth/login',
                  TextTransformations: [{ Priority: 0, Type: 'NONE' }],
                },
              },
              {
                ByteMatchStatement: {
                  FieldToMatch: { Method: {} },
                  PositionalConstraint: 'EXACTLY',
                  SearchString: 'POST',
                  TextTransformations: [{ Priority: 0, Type: 'NONE' }],
                },
              },
            ],
          },
        },
      },
    });
  });

  it('limits the route the backend serves for logins', () => {
    const auth = readFileSync(new URL('../../backend/src/admin/auth.ts', import.meta.url), 'utf8');
    const openapi = readFileSync(new URL('../../backend/src/admin/openapi.ts', import.meta.url), 'utf8');
    expect(auth).toContain("'/auth/login'");
    expect(openapi).toContain(`'POST ${ADMIN_LOGIN_PATH}'`);
  });

  it("uses a limit and a window WAF accepts", () => {
    expect(LOGIN_RATE_LIMIT).toBeGreaterThanOrEqual(10);
    expect([60, 120, 300, 600]).toContain(LOGIN_RATE_WINDOW_SECONDS);
  });
});

describe("body rules and Claude Code's paths", () => {
  const bodyLabels = Object.values(BODY_RULES).flatMap((list) => list.map((r) => r.label));

  it('counts, rather than blocks, every body rule of the common and known-bad-inputs groups', () => {
    for (const [name, bodyRules] of Object.entries(BODY_RULES)) {
      expect(group(name).RuleActionOverrides).toEqual(bodyRules.map((r) => ({ Name: r.rule, ActionToUse: { Count: {} } })));
      expect(rule(`AWS-${name}`).OverrideAction).toEqual({ None: {} }); // all other rules keep blocking
    }
    expect(BODY_RULES.AWSManagedRulesCommonRuleSet?.map((r) => r.rule)).toEqual(
      expect.arrayContaining(['SizeRestrictions_BODY', 'CrossSiteScripting_BODY']),
    );
  });

  it('names each label after its rule, in the namespace of its group', () => {
    const namespace = { AWSManagedRulesCommonRuleSet: 'core-rule-set', AWSManagedRulesKnownBadInputsRuleSet: 'known-bad-inputs' };
    for (const [name, bodyRules] of Object.entries(BODY_RULES)) {
      for (const { rule: ruleName, label } of bodyRules) {
        expect(label).toBe(`awswaf:managed:aws:${namespace[name as keyof typeof namespace]}:${ruleName.replace(/_BODY$/, '_Body')}`);
      }
    }
  });

  it('blocks a request carrying any of those labels unless its path is one of Claude Code\'s', () => {
    const block = rule('BlockBodySignaturesOutsideClaudeCode');
    expect(block.Action).toEqual({ Block: {} });
    expect(block.Statement).toEqual({
      AndStatement: {
        Statements: [
          { OrStatement: { Statements: bodyLabels.map((key) => ({ LabelMatchStatement: { Scope: 'LABEL', Key: key } })) } },
          {
            NotStatement: {
              Statement: {
                RegexMatchStatement: {
                  FieldToMatch: { UriPath: {} },
                  RegexString: CLAUDE_CODE_PATHS,
                  TextTransformations: [{ Priority: 0, Type: 'NONE' }],
                },
              },
            },
          },
        ],
      },
    });
    // After the groups that add the labels: a label only exists for rules that ran before.
    expect(block.Priority).toBeGreaterThan(rule('AWS-AWSManagedRulesCommonRuleSet').Priority);
    expect(block.Priority).toBeGreaterThan(rule('AWS-AWSManagedRulesKnownBadInputsRuleSet').Priority);
  });

  it("exempts exactly the proxy's messages, count_tokens and status routes, with the key in the path or not", () => {
    const key = 'ak_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v'; // the shape of backend/src/security/access-key.ts
    for (const path of [
      '/v1/messages',
      '/v1/messages/count_tokens',
      `/ak/${key}/v1/messages`,
      `/ak/${key}/v1/messages/count_tokens`,
      '/status',
      `/ak/${key}/status`,
    ]) {
      expect(claudeCodePath.test(path), path).toBe(true);
    }
    for (const path of [
      '/admin/auth/login',
      '/admin/users',
      '/',
      '/v1/messages/',
      '/v1/messagesX',
      '/x/v1/messages',
      `/ak/${key}/admin/users`,
      `/ak/${key}/x/v1/messages`,
      '/v1/complete',
    ]) {
      expect(claudeCodePath.test(path), path).toBe(false);
    }
  });

  it('matches the routes the proxy registers', () => {
    const plugin = readFileSync(new URL('../../backend/src/proxy/plugin.ts', import.meta.url), 'utf8');
    const routes = [...plugin.matchAll(/\['(\/[^']+)', '(?:messages|count_tokens)'\]/g)].map((m) => m[1] as string);
    expect(routes).toEqual(['/ak/:key/v1/messages', '/ak/:key/v1/messages/count_tokens', '/v1/messages', '/v1/messages/count_tokens']);
    for (const route of routes) expect(claudeCodePath.test(route.replace(':key', 'ak_x')), route).toBe(true);
  });
});

describe('logging', () => {
  it('writes to an encrypted log group named aws-waf-logs-…, with a retention period', () => {
    compute.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: 'aws-waf-logs-claude-code-proxy',
      RetentionInDays: 90,
      KmsKeyId: stacks.compute.resolve(stacks.secrets.kmsKey.keyArn),
    });
    const logging = onlyResource(compute, 'AWS::WAFv2::LoggingConfiguration').Properties;
    expect(logging.ResourceArn).toEqual({ 'Fn::GetAtt': [logicalId('AWS::WAFv2::WebACL'), 'Arn'] });
    expect(JSON.stringify(logging.LogDestinationConfigs)).toContain(':log-group:');
    expect(JSON.stringify(logging.LogDestinationConfigs)).not.toContain(':*');
  });

  it('keeps the URI path (which carries /ak/<key>) and every credential header out of the log', () => {
    const logging = onlyResource(compute, 'AWS::WAFv2::LoggingConfiguration').Properties;
    expect(logging.RedactedFields).toEqual([
      { UriPath: {} },
      { SingleHeader: { Name: 'authorization' } },
      { SingleHeader: { Name: 'x-api-key' } },
      { SingleHeader: { Name: 'x-proxy-key' } },
      { SingleHeader: { Name: 'cookie' } },
    ]);
  });

  it('logs blocked requests only', () => {
    const logging = onlyResource(compute, 'AWS::WAFv2::LoggingConfiguration').Properties;
    expect(logging.LoggingFilter).toEqual({
      DefaultBehavior: 'DROP',
      Filters: [{ Behavior: 'KEEP', Requirement: 'MEETS_ANY', Conditions: [{ ActionCondition: { Action: 'BLOCK' } }] }],
    });
  });

  it('keeps the log when a prod stack is deleted, and deletes it with a dev one', () => {
    const kept = Object.values(compute.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: 'aws-waf-logs-claude-code-proxy' } }));
    expect(kept[0]?.DeletionPolicy).toBe('Retain');
    const dev = templatesOf(makeApp({ stage: 'dev' }).stacks).compute;
    const deleted = Object.values(dev.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: 'aws-waf-logs-claude-code-proxy' } }));
    expect(deleted[0]?.DeletionPolicy).toBe('Delete');
  });
});
