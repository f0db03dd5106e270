/**
 * What differs per deployment, read from CDK context (`cdk.json` carries example values, a real
 * deploy overrides them with `-c key=value`). Every value is checked here, before any stack is
 * built, so a wrong shape stops synthesis with one message naming each bad key.
 */

import { auroraPostgresVersionProblem, DEFAULT_AURORA_POSTGRES_VERSION } from './aurora-versions.ts';

/**
 * `prod` (the default, what `cdk deploy` builds) runs the proxy with ENVIRONMENT=prod and keeps
 * what cannot be recreated when a stack is deleted (secrets, KMS key, a final database snapshot)
 * behind deletion protection; `dev` is a throw-away deployment that `cdk destroy` removes entirely.
 */
export const STAGES = ['dev', 'prod'] as const;
export type DeploymentStage = (typeof STAGES)[number];

type Result<T> = { ok: true; value: T } | { ok: false; problem: string };

/** One context value: how to parse it, and what it is when absent (required fields have no `absent`). */
interface Field<T> {
  readonly absent?: { value: T };
  parse(raw: string): Result<T>;
}

function field<T>(parse: (raw: string) => Result<T>): Field<T> {
  return { parse };
}

function optional<T>(inner: Field<T>): Field<T | undefined> {
  return { absent: { value: undefined }, parse: inner.parse };
}

function withDefault<T>(inner: Field<T>, fallback: T): Field<T> {
  return { absent: { value: fallback }, parse: inner.parse };
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const bad = (problem: string): Result<never> => ({ ok: false, problem });

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A fully qualified domain name, lower-cased and without a trailing dot. */
function parseDomain(raw: string, example: string): Result<string> {
  const name = raw.trim().toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  const valid =
    name.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => DNS_LABEL.test(label)) &&
    /^[a-z]{2,63}$/.test(labels[labels.length - 1] ?? '');
  return valid ? ok(name) : bad(`"${raw}" is not a domain name (expected e.g. ${example})`);
}

function matching(pattern: RegExp, expected: string): Field<string> {
  return field((raw) => (pattern.test(raw) ? ok(raw) : bad(`"${raw}" is not ${expected}`)));
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** An IANA time zone as the proxy's TIMEZONE takes it, in its canonical spelling ("europe/berlin" → "Europe/Berlin"). */
function parseTimeZone(raw: string): Result<string> {
  try {
    return ok(new Intl.DateTimeFormat('en-US', { timeZone: raw.trim() }).resolvedOptions().timeZone);
  } catch {
    return bad(`"${raw}" is not an IANA time zone (expected e.g. UTC, Europe/Berlin or Asia/Seoul)`);
  }
}

/** Comma-separated browser origins, as the proxy's CORS_ORIGINS takes them: scheme, host and port only. */
function parseOrigins(raw: string): Result<string> {
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      /* reported below */
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      return bad(`"${origin}" is not an origin (expected e.g. https://admin.example.com, comma-separated, without a path or "*")`);
    }
  }
  return ok(list.join(','));
}

/** OIDC_ISSUER as the proxy takes it (no query or fragment, trailing slashes dropped), but https only: the proxy runs behind TLS. */
function parseIssuer(raw: string): Result<string> {
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    /* reported below */
  }
  if (!url || url.protocol !== 'https:' || url.search || url.hash) {
    return bad(`"${raw}" is not an https issuer URL without query or fragment (expected e.g. https://login.example.com/oauth2/default)`);
  }
  return ok(url.toString().replace(/\/+$/, ''));
}

/** A claim name or a client id: one word, no blanks. */
const word = (expected: string): Field<string> =>
  field((raw) => (/^\S+$/.test(raw.trim()) ? ok(raw.trim()) : bad(`"${raw}" is not ${expected}`)));

/** A comma-separated list as the proxy reads it (blanks dropped), written back joined by commas. */
const commaList = field((raw) => {
  const list = raw.split(',').map((v) => v.trim()).filter(Boolean);
  return list.length > 0 ? ok(list.join(',')) : bad(`"${raw}" holds no value`);
});

const schema = {
  account: matching(/^\d{12}$/, 'a 12-digit AWS account id'),
  region: matching(AWS_REGION, 'an AWS region such as ap-northeast-2'),
  domainName: field((raw) => parseDomain(raw, 'proxy.example.com')),
  hostedZoneId: field((raw) =>
    raw.startsWith('/hostedzone/')
      ? bad(`"${raw}": give the bare zone id, without the "/hostedzone/" prefix`)
      : /^[A-Z0-9]{1,32}$/.test(raw)
        ? ok(raw)
        : bad(`"${raw}" is not a Route 53 hosted zone id (upper-case letters and digits, e.g. Z0123456789ABCDEFGHIJ)`),
  ),
  hostedZoneName: field((raw) => parseDomain(raw, 'example.com')),
  alertEmail: matching(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address'),
  /** An existing Secrets Manager secret holding a default Anthropic API key (plain string). */
  planApiKeySecretName: optional(
    matching(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'a Secrets Manager secret name (the name, not an ARN)'),
  ),
  // The proxy's own settings (README "Configuration"); unset ones keep the proxy's default, except
  // bedrockRegion, which defaults to the deployment's region (proxy-app.ts).
  /** TIMEZONE: report periods, rollup buckets and budget months; a database keeps the zone it started with. */
  timezone: optional(field(parseTimeZone)),
  /** BEDROCK_REGION: where Bedrock is called for access keys without a region of their own. */
  bedrockRegion: optional(matching(AWS_REGION, 'an AWS region such as us-east-1')),
  /** BEDROCK_API: invoke, converse or messages. */
  bedrockApi: optional(
    field((raw) => (['invoke', 'converse', 'messages'].includes(raw) ? ok(raw) : bad(`"${raw}" is not one of invoke, converse, messages`))),
  ),
  /** CORS_ORIGINS: browser origins besides the proxy's own allowed to call the admin API. */
  corsOrigins: optional(field(parseOrigins)),
  /** Interface endpoints for the AWS services the tasks call, so a NAT gateway outage leaves Bedrock reachable (network-stack.ts). */
  vpcEndpoints: withDefault(
    field((raw) => (raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad(`"${raw}" is not true or false`))),
    false,
  ),
  // Company sign-in (README "Company sign-in"); the proxy's OIDC_ and SELF_ENROLMENT settings,
  // checked as backend/src/config.ts checks them. All of them only with oidcIssuer and oidcClientId.
  /** OIDC_ISSUER: the identity provider; set with oidcClientId, it adds the OidcClientSecret secret. */
  oidcIssuer: optional(field(parseIssuer)),
  /** OIDC_CLIENT_ID: the client registered with the issuer. */
  oidcClientId: optional(word('a client id (no blanks)')),
  /** OIDC_USERNAME_CLAIM: the ID token claim that names the person (proxy default: email). */
  oidcUsernameClaim: optional(word('a claim name (no blanks)')),
  /** OIDC_ROLE_CLAIM: the claim whose values give the role (proxy default: groups). */
  oidcRoleClaim: optional(word('a claim name (no blanks)')),
  /** OIDC_ADMIN_VALUES: comma-separated role-claim values that make an admin. */
  oidcAdminValues: optional(commaList),
  /** OIDC_VIEWER_VALUES: comma-separated role-claim values that make a viewer. */
  oidcViewerValues: optional(commaList),
  /** SELF_ENROLMENT: whether a developer's first sign-in creates their user. */
  selfEnrolment: optional(
    field((raw) => (raw === 'true' ? ok(true) : raw === 'false' ? ok(false) : bad(`"${raw}" is not true or false`))),
  ),
  /** SELF_ENROLMENT_ROUTING: routing strategy of a self-enrolled user. */
  selfEnrolmentRouting: optional(
    field((raw) =>
      ['plan_first', 'bedrock_only', 'plan_only'].includes(raw) ? ok(raw) : bad(`"${raw}" is not one of plan_first, bedrock_only, plan_only`),
    ),
  ),
  /** SELF_ENROLMENT_BUDGET: monthly Bedrock budget (USD) of a self-enrolled user. */
  selfEnrolmentBudget: optional(matching(/^\d{1,10}(\.\d{1,4})?$/, 'an amount in USD with at most 4 decimals, e.g. 250')),
  /** DEVELOPER_MAX_KEYS: unrevoked access keys a developer may hold when issuing their own. */
  developerMaxKeys: optional(
    field((raw) => (/^\d{1,4}$/.test(raw) && Number(raw) <= 1000 ? ok(raw) : bad(`"${raw}" is not an integer from 0 to 1000`))),
  ),
  stage: withDefault(
    field((raw): Result<DeploymentStage> =>
      raw === 'dev' || raw === 'prod' ? ok(raw) : bad(`"${raw}" is not one of ${STAGES.join(', ')}`),
    ),
    'prod' as DeploymentStage,
  ),
  /** Aurora PostgreSQL version of a new cluster, checked against the installed aws-cdk-lib's list. */
  auroraPostgresVersion: withDefault(
    field((raw) => {
      const problem = auroraPostgresVersionProblem(raw);
      return problem ? bad(problem) : ok(raw);
    }),
    DEFAULT_AURORA_POSTGRES_VERSION,
  ),
} satisfies Record<string, Field<unknown>>;

type Schema = typeof schema;
export type ContextKey = keyof Schema;
export type DeploymentConfig = { [K in ContextKey]: Schema[K] extends Field<infer T> ? T : never };

export const CONTEXT_KEYS = Object.keys(schema) as ContextKey[];

/** The company sign-in settings (README "Company sign-in"): none of them without oidcIssuer. */
const SIGN_IN_SETTINGS: ReadonlySet<ContextKey> = new Set<ContextKey>([
  'oidcIssuer', 'oidcClientId', 'oidcUsernameClaim', 'oidcRoleClaim', 'oidcAdminValues', 'oidcViewerValues',
  'selfEnrolment', 'selfEnrolmentRouting', 'selfEnrolmentBudget', 'developerMaxKeys',
]);

/** Keys of earlier versions of this app, and what replaced them. */
const RENAMED_KEYS: Readonly<Record<string, ContextKey>> = { databaseEngineVersion: 'auroraPostgresVersion' };

/** Thrown when context values are missing or malformed; the message lists every problem. */
export class ContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      'Invalid CDK context (set it in infra/cdk.json or pass -c key=value):\n' +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ContextError';
  }
}

/** Parses and validates the deployment context; `read` is usually `app.node.tryGetContext`. */
export function parseContext(read: (key: string) => unknown): DeploymentConfig {
  const problems: string[] = [];
  const values: Partial<Record<ContextKey, unknown>> = {};
  /** Keys given but refused above: reported once, not again as missing. */
  const refused = new Set<ContextKey>();

  for (const key of CONTEXT_KEYS) {
    const spec: Field<unknown> = schema[key];
    const raw = read(key);
    if (raw === undefined || raw === null || raw === '') {
      if (spec.absent) values[key] = spec.absent.value;
      else problems.push(`${key}: missing`);
      continue;
    }
    if (typeof raw !== 'string') {
      problems.push(`${key}: must be a string, got ${JSON.stringify(raw)}`);
      refused.add(key);
      continue;
    }
    const result = spec.parse(raw);
    if (result.ok) values[key] = result.value;
    else {
      problems.push(`${key}: ${result.problem}`);
      refused.add(key);
    }
  }

  // A renamed key would otherwise be ignored without a word, and the deployment run on the default.
  for (const [old, current] of Object.entries(RENAMED_KEYS)) {
    if (read(old) !== undefined) problems.push(`${old}: renamed to ${current}`);
  }

  // The certificate is validated and the alias record created in this zone, so the domain must
  // lie inside it.
  const { domainName, hostedZoneName } = values;
  if (
    typeof domainName === 'string' &&
    typeof hostedZoneName === 'string' &&
    domainName !== hostedZoneName &&
    !domainName.endsWith(`.${hostedZoneName}`)
  ) {
    problems.push(`domainName: "${domainName}" is not inside the hosted zone "${hostedZoneName}"`);
  }

  // Company sign-in needs both; its other settings without them would be ignored without a word.
  const given = (key: ContextKey) => values[key] !== undefined || refused.has(key);
  if (given('oidcIssuer') && !given('oidcClientId')) problems.push('oidcClientId: required with oidcIssuer');
  if (!given('oidcIssuer')) {
    for (const key of CONTEXT_KEYS) {
      if (SIGN_IN_SETTINGS.has(key) && key !== 'oidcIssuer' && values[key] !== undefined) problems.push(`${key}: only with oidcIssuer (company sign-in)`);
    }
  }

  if (problems.length > 0) throw new ContextError(problems);
  return values as DeploymentConfig;
}
