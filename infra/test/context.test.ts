import { describe, expect, it } from 'vitest';
import { DEFAULT_AURORA_POSTGRES_VERSION } from '../lib/aurora-versions.ts';
import { CONTEXT_KEYS, ContextError, parseContext } from '../lib/context.ts';
import { EXAMPLE_CONTEXT, makeApp } from './support/app.ts';

const parse = (overrides: Record<string, unknown> = {}) => {
  const context: Record<string, unknown> = { ...EXAMPLE_CONTEXT, ...overrides };
  return parseContext((key) => context[key]);
};

/** The problems parseContext reports for these overrides (fails if it accepts them). */
const problemsOf = (overrides: Record<string, unknown>): readonly string[] => {
  try {
    parse(overrides);
  } catch (error) {
    if (error instanceof ContextError) return error.problems;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
};

describe('the example context of cdk.json', () => {
  it('is valid, and is what a plain `cdk synth` deploys', () => {
    expect(parse()).toEqual({
      account: '123456789012',
      region: 'ap-northeast-2',
      domainName: 'proxy.example.com',
      hostedZoneId: 'Z0123456789EXAMPLE',
      hostedZoneName: 'example.com',
      alertEmail: 'alerts@example.com',
      planApiKeySecretName: undefined,
      timezone: 'Asia/Seoul',
      bedrockRegion: 'ap-northeast-2',
      bedrockApi: 'invoke',
      corsOrigins: undefined,
      vpcEndpoints: false,
      oidcIssuer: undefined,
      oidcClientId: undefined,
      oidcUsernameClaim: undefined,
      oidcRoleClaim: undefined,
      oidcAdminValues: undefined,
      oidcViewerValues: undefined,
      selfEnrolment: undefined,
      selfEnrolmentRouting: undefined,
      selfEnrolmentBudget: undefined,
      developerMaxKeys: undefined,
      stage: 'prod',
      auroraPostgresVersion: DEFAULT_AURORA_POSTGRES_VERSION,
    });
  });

  it('pins the availability zones of its account and region, so synthesis needs no lookup', () => {
    const azs = EXAMPLE_CONTEXT[`availability-zones:account=${String(EXAMPLE_CONTEXT.account)}:region=${String(EXAMPLE_CONTEXT.region)}`];
    expect(Array.isArray(azs) && azs.length >= 2).toBe(true);
  });

  it('turns off CLI telemetry', () => {
    expect(EXAMPLE_CONTEXT['cli-telemetry']).toBe(false);
  });
});

describe('accepted values', () => {
  it('normalises domain names (case, trailing dot) and accepts the zone apex', () => {
    expect(parse({ domainName: 'Proxy.Corp.Example.', hostedZoneName: 'corp.example.' })).toMatchObject({
      domainName: 'proxy.corp.example',
      hostedZoneName: 'corp.example',
    });
    expect(parse({ domainName: 'example.com' }).domainName).toBe('example.com');
  });

  it('takes an optional Plan key secret name and a current engine version of any major from 15', () => {
    expect(parse({ planApiKeySecretName: 'team/anthropic-key', auroraPostgresVersion: '15.17' })).toMatchObject({
      planApiKeySecretName: 'team/anthropic-key',
      auroraPostgresVersion: '15.17',
    });
    expect(parse({ auroraPostgresVersion: '16.13' }).auroraPostgresVersion).toBe('16.13');
  });

  it('deploys stage prod unless told dev', () => {
    expect(parse({ stage: undefined }).stage).toBe('prod');
    expect(parse({ stage: 'dev' }).stage).toBe('dev');
    expect(parse({ stage: 'prod' }).stage).toBe('prod');
  });

  it("takes the proxy's TIMEZONE, BEDROCK_REGION, BEDROCK_API and CORS_ORIGINS, checked as the proxy checks them", () => {
    expect(
      parse({ timezone: 'europe/berlin', bedrockRegion: 'eu-central-1', bedrockApi: 'converse', corsOrigins: 'https://admin.example.com, http://localhost:5173' }),
    ).toMatchObject({
      timezone: 'Europe/Berlin',
      bedrockRegion: 'eu-central-1',
      bedrockApi: 'converse',
      corsOrigins: 'https://admin.example.com,http://localhost:5173',
    });
    expect(parse({ timezone: undefined, bedrockRegion: undefined, bedrockApi: undefined, corsOrigins: undefined })).toMatchObject({
      timezone: undefined,
      bedrockRegion: undefined,
      bedrockApi: undefined,
      corsOrigins: undefined,
    });
  });

  it('takes company sign-in: an https issuer (trailing slash dropped, as the proxy does), a client id and the mapping values', () => {
    expect(
      parse({
        oidcIssuer: 'https://login.example.com/oauth2/default/',
        oidcClientId: ' 0oa1example ',
        oidcUsernameClaim: 'preferred_username',
        oidcRoleClaim: 'roles',
        oidcAdminValues: 'proxy-admins, platform,',
        oidcViewerValues: 'auditors',
        selfEnrolment: 'true',
        selfEnrolmentRouting: 'bedrock_only',
        selfEnrolmentBudget: '250.50',
        developerMaxKeys: '0',
      }),
    ).toMatchObject({
      oidcIssuer: 'https://login.example.com/oauth2/default',
      oidcClientId: '0oa1example',
      oidcUsernameClaim: 'preferred_username',
      oidcRoleClaim: 'roles',
      oidcAdminValues: 'proxy-admins,platform',
      oidcViewerValues: 'auditors',
      selfEnrolment: true,
      selfEnrolmentRouting: 'bedrock_only',
      selfEnrolmentBudget: '250.50',
      developerMaxKeys: '0',
    });
  });

  it('treats an empty optional value (-c planApiKeySecretName=) as unset', () => {
    expect(parse({ planApiKeySecretName: '', auroraPostgresVersion: '', stage: '' })).toMatchObject({
      planApiKeySecretName: undefined,
      auroraPostgresVersion: DEFAULT_AURORA_POSTGRES_VERSION,
      stage: 'prod',
    });
  });
});

describe('rejected values', () => {
  it.each([
    ['account', '12345', /account: "12345" is not a 12-digit AWS account id/],
    ['region', 'Seoul', /region: "Seoul" is not an AWS region/],
    ['domainName', 'proxy_example', /domainName: "proxy_example" is not a domain name/],
    ['domainName', 'https://proxy.example.com', /domainName: .* is not a domain name/],
    ['hostedZoneId', 'z0123', /hostedZoneId: "z0123" is not a Route 53 hosted zone id/],
    ['hostedZoneId', '/hostedzone/Z0123456789EXAMPLE', /without the "\/hostedzone\/" prefix/],
    ['alertEmail', 'alerts.example.com', /alertEmail: "alerts.example.com" is not an e-mail address/],
    ['planApiKeySecretName', 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:x', /the name, not an ARN/],
    ['auroraPostgresVersion', '15.4', /^auroraPostgresVersion: "15\.4" is no longer offered by Amazon RDS for new clusters \(e\.g\. 17\.9/],
    ['auroraPostgresVersion', '17.3', /^auroraPostgresVersion: "17\.3" is not an Aurora PostgreSQL version the installed aws-cdk-lib knows/],
    ['auroraPostgresVersion', '14.22', /^auroraPostgresVersion: "14\.22" is older than the seed's major version 15/],
    ['auroraPostgresVersion', '16.4-limitless', /is not an Aurora PostgreSQL version the installed aws-cdk-lib knows/],
    ['stage', 'production', /^stage: "production" is not one of dev, prod$/],
    ['databaseEngineVersion', '15.17', /^databaseEngineVersion: renamed to auroraPostgresVersion$/],
    ['timezone', 'KST', /^timezone: "KST" is not an IANA time zone \(expected e\.g\. UTC, Europe\/Berlin or Asia\/Seoul\)$/],
    ['bedrockRegion', 'Virginia', /^bedrockRegion: "Virginia" is not an AWS region such as us-east-1$/],
    ['bedrockApi', 'chat', /^bedrockApi: "chat" is not one of invoke, converse, messages$/],
    ['corsOrigins', 'https://admin.example.com/app', /^corsOrigins: "https:\/\/admin\.example\.com\/app" is not an origin/],
    ['corsOrigins', '*', /^corsOrigins: "\*" is not an origin/],
  ])('%s = %s', (key, value, message) => {
    const problems = problemsOf({ [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  const SIGN_IN = { oidcIssuer: 'https://login.example.com', oidcClientId: 'abc' };
  it.each([
    ['oidcIssuer', 'http://login.example.com', /^oidcIssuer: "http:\/\/login\.example\.com" is not an https issuer URL/],
    ['oidcIssuer', 'login.example.com', /^oidcIssuer: "login\.example\.com" is not an https issuer URL/],
    ['oidcIssuer', 'https://login.example.com/?tenant=x', /^oidcIssuer: .* is not an https issuer URL without query or fragment/],
    ['oidcClientId', 'my client', /^oidcClientId: "my client" is not a client id \(no blanks\)$/],
    ['oidcRoleClaim', 'my groups', /^oidcRoleClaim: "my groups" is not a claim name/],
    ['oidcAdminValues', ' , ', /^oidcAdminValues: " , " holds no value$/],
    ['selfEnrolment', 'yes', /^selfEnrolment: "yes" is not true or false$/],
    ['selfEnrolmentRouting', 'plan', /^selfEnrolmentRouting: "plan" is not one of plan_first, bedrock_only, plan_only$/],
    ['selfEnrolmentBudget', '$250', /^selfEnrolmentBudget: "\$250" is not an amount in USD/],
    ['developerMaxKeys', '1001', /^developerMaxKeys: "1001" is not an integer from 0 to 1000$/],
  ])('with company sign-in: %s = %s', (key, value, message) => {
    const problems = problemsOf({ ...SIGN_IN, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('asks for oidcClientId with oidcIssuer, and refuses sign-in settings without an issuer', () => {
    expect(problemsOf({ oidcIssuer: 'https://login.example.com' })).toEqual(['oidcClientId: required with oidcIssuer']);
    expect(problemsOf({ oidcClientId: 'abc', selfEnrolment: 'true' })).toEqual([
      'oidcClientId: only with oidcIssuer (company sign-in)',
      'selfEnrolment: only with oidcIssuer (company sign-in)',
    ]);
  });

  it('rejects a domain outside the hosted zone', () => {
    expect(problemsOf({ domainName: 'proxy.other.org' })).toEqual([
      'domainName: "proxy.other.org" is not inside the hosted zone "example.com"',
    ]);
    expect(problemsOf({ domainName: 'notexample.com' })).toHaveLength(1);
  });

  it('rejects values that are not strings', () => {
    expect(problemsOf({ account: 123456789012 })).toEqual(['account: must be a string, got 123456789012']);
  });

  it('lists every missing required key at once', () => {
    const required = ['account', 'region', 'domainName', 'hostedZoneId', 'hostedZoneName', 'alertEmail'];
    const problems = problemsOf(Object.fromEntries(CONTEXT_KEYS.map((key) => [key, undefined])));
    expect(problems).toEqual(required.map((key) => `${key}: missing`));
  });

  it('stops the app before any stack is built, with a message naming the key', () => {
    expect(() => makeApp({ alertEmail: 'nobody' })).toThrow(ContextError);
    expect(() => makeApp({ alertEmail: 'nobody' })).toThrow(
      /^Invalid CDK context \(set it in infra\/cdk\.json or pass -c key=value\):\n {2}- alertEmail: "nobody" is not an e-mail address$/,
    );
  });
});
