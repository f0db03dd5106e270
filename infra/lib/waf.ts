import { ArnFormat, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/**
 * The paths whose bodies are Claude Code's own traffic: the proxy's messages and count_tokens
 * routes (backend/src/proxy/plugin.ts) and the status line (backend/src/proxy/status-line.ts), with
 * the access key in the path or in a header. A real session's body is a whole conversation (code,
 * HTML, shell output, stack traces, often far over 8 KB), so the managed rules that read bodies
 * would block ordinary work there. Anchored: any other path keeps every body rule.
 */
export const CLAUDE_CODE_PATHS = '^/(ak/[^/]+/)?(v1/messages(/count_tokens)?|status)$';

/** Where the dashboard and ccproxy log in (backend/src/admin/auth.ts: POST /admin/auth/login). */
export const ADMIN_LOGIN_PATH = '/admin/auth/login';

/**
 * Login attempts one client address may make in `LOGIN_RATE_WINDOW_SECONDS` before WAF blocks its
 * further attempts. The app's own limit (README "Security": 20 a minute per address, counted in
 * the database after a scrypt hash) still applies below this; WAF stops a flood before it reaches
 * a task at all. A person signing in, even mistyping, stays far below 10 a minute.
 */
export const LOGIN_RATE_LIMIT = 50;
export const LOGIN_RATE_WINDOW_SECONDS = 300;

/**
 * The managed rules that inspect the request body, and the labels they add. On the Claude Code
 * paths they only count (their labels stay visible in the WAF metrics); everywhere else the rule
 * `BlockBodySignaturesOutsideClaudeCode` blocks on the same labels, so the rest of the site is
 * covered exactly as the managed groups would cover it. Names and labels as AWS documents them for
 * the current versions of the groups (WAF developer guide, "Baseline rule groups").
 */
export const BODY_RULES: Readonly<Record<string, ReadonlyArray<{ rule: string; label: string }>>> = {
  AWSManagedRulesCommonRuleSet: [
    { rule: 'SizeRestrictions_BODY', label: 'awswaf:managed:aws:core-rule-set:SizeRestrictions_Body' },
    { rule: 'CrossSiteScripting_BODY', label: 'awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body' },
    { rule: 'GenericLFI_BODY', label: 'awswaf:managed:aws:core-rule-set:GenericLFI_Body' },
    { rule: 'GenericRFI_BODY', label: 'awswaf:managed:aws:core-rule-set:GenericRFI_Body' },
    { rule: 'EC2MetaDataSSRF_BODY', label: 'awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body' },
  ],
  AWSManagedRulesKnownBadInputsRuleSet: [
    { rule: 'JavaDeserializationRCE_BODY', label: 'awswaf:managed:aws:known-bad-inputs:JavaDeserializationRCE_Body' },
    { rule: 'Log4JRCE_BODY', label: 'awswaf:managed:aws:known-bad-inputs:Log4JRCE_Body' },
    { rule: 'ReactJSRCE_BODY', label: 'awswaf:managed:aws:known-bad-inputs:ReactJSRCE_Body' },
  ],
};

/**
 * Request headers that carry credentials: the client's Anthropic credential (forwarded by the
 * proxy), the access key when it travels in a header instead of the path, and the dashboard's
 * session cookie. Kept out of the WAF log with the URI path, which holds the key in /ak/<key>/….
 */
export const REDACTED_HEADERS = ['authorization', 'x-api-key', 'x-proxy-key', 'cookie'] as const;

export interface ProxyWafProps {
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The deployment's key, which encrypts its other log groups too. */
  readonly logEncryptionKey: kms.IKey;
  /** What happens to the log when the stack is deleted (kept in prod, like the stage's other data). */
  readonly logRemovalPolicy: RemovalPolicy;
}

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  // Sampled requests (kept three hours, shown in the console) hold the full path and headers, and
  // WAF cannot redact a path from them: the access key would be readable by anyone with console access.
  sampledRequestsEnabled: false,
});

function managedGroup(
  name: string,
  priority: number,
  options: { countOnly?: boolean; countRules?: readonly string[] } = {},
): wafv2.CfnWebACL.RuleProperty {
  return {
    name: `AWS-${name}`,
    priority,
    overrideAction: options.countOnly ? { count: {} } : { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(options.countRules?.length
          ? { ruleActionOverrides: options.countRules.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(`AWS-${name}`),
  };
}

/**
 * The load balancer's web ACL: AWS managed rules, a rate limit on the admin login, body rules
 * exempted on Claude Code's own paths, and a log of the blocked requests without keys.
 */
export class ProxyWaf extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ProxyWafProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const bodyLabels = Object.values(BODY_RULES).flatMap((rules) => rules.map((r) => r.label));
    const countRules = (group: string) => (BODY_RULES[group] ?? []).map((r) => r.rule);

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Claude Code Proxy load balancer',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ClaudeCodeProxyWebAcl'),
      rules: [
        // Addresses Amazon threat intelligence lists as bots, scanners and DDoS sources.
        managedGroup('AWSManagedRulesAmazonIpReputationList', 0),
        // VPNs, Tor and hosting providers: counted only (label metrics show how much traffic comes
        // from them). Developers on a corporate VPN or a cloud workstation must not be locked out.
        managedGroup('AWSManagedRulesAnonymousIpList', 1, { countOnly: true }),
        {
          name: 'AdminLoginRateLimit',
          priority: 2,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: LOGIN_RATE_LIMIT,
              evaluationWindowSec: LOGIN_RATE_WINDOW_SECONDS,
              aggregateKeyType: 'IP',
              scopeDownStatement: {
                andStatement: {
                  statements: [
                    {
                      byteMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        positionalConstraint: 'EXACTLY',
                        searchString: ADMIN_LOGIN_PATH,
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                    {
                      byteMatchStatement: {
                        fieldToMatch: { method: {} },
                        positionalConstraint: 'EXACTLY',
                        searchString: 'POST',
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                  ],
                },
              },
            },
          },
          visibilityConfig: visibility('AdminLoginRateLimit'),
        },
        managedGroup('AWSManagedRulesCommonRuleSet', 3, { countRules: countRules('AWSManagedRulesCommonRuleSet') }),
        managedGroup('AWSManagedRulesKnownBadInputsRuleSet', 4, { countRules: countRules('AWSManagedRulesKnownBadInputsRuleSet') }),
        {
          // What the body rules above only counted, blocked again everywhere but Claude Code's paths.
          name: 'BlockBodySignaturesOutsideClaudeCode',
          priority: 5,
          action: { block: {} },
          statement: {
            andStatement: {
              statements: [
                { orStatement: { statements: bodyLabels.map((key) => ({ labelMatchStatement: { scope: 'LABEL', key } })) } },
                {
                  notStatement: {
                    statement: {
                      regexMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        regexString: CLAUDE_CODE_PATHS,
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                  },
                },
              ],
            },
          },
          visibilityConfig: visibility('BlockBodySignaturesOutsideClaudeCode'),
        },
      ],
    });

    new wafv2.CfnWebACLAssociation(this, 'LoadBalancerAssociation', {
      resourceArn: props.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF only delivers to a log group whose name starts with "aws-waf-logs-" (so the name is fixed:
    // infra/README.md "Destroy" says what a kept one means for the next deployment).
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: 'aws-waf-logs-claude-code-proxy',
      retention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.logRemovalPolicy,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The log group's ARN without the ":*" suffix of CloudFormation's Arn attribute, as WAF expects it.
      logDestinationConfigs: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: [{ uriPath: {} }, ...REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } }))],
      // Blocked requests only: what someone asks about ("why was I refused?"); the allowed ones
      // are in the load balancer's metrics and the proxy's own request log.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [{ Behavior: 'KEEP', Requirement: 'MEETS_ANY', Conditions: [{ ActionCondition: { Action: 'BLOCK' } }] }],
      },
    });
  }
}
