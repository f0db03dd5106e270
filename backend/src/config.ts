import fs from 'node:fs';
import path from 'node:path';
import { startOf } from './accounting/calendar.ts';
import { DatabaseUrlError, SSL_MODES, strictestSslMode, urlSslMode, type SslMode } from './db/tls.ts';
import { isPasswordHash } from './security/passwords.ts';
import { weakAdminPassword, weakEncryptionKey, weakSecret } from './security/secret-strength.ts';

/** Typed, validated configuration. Every field comes from one environment variable (see TABLE). */
export interface Config {
  port: number;
  host: string;
  environment: 'dev' | 'test' | 'staging' | 'prod';
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** postgres:// URL, or undefined for the embedded PGlite database in dataDir. */
  databaseUrl: string | undefined;
  /**
   * The master login: migrations and the application's own role, at start-up only (db/app-role.ts).
   * main.ts takes it out before serving (prepareAsMaster): undefined in the config the app gets.
   */
  databaseAdminUrl: string | undefined;
  /** The effective TLS mode of the database connections (loadConfig resolves the default). */
  databaseSslMode: SslMode;
  /** PEM bundle the database's certificate must chain to (verify-full). */
  databaseCaFile: string | undefined;
  dataDir: string;
  keyHasherSecret: string | undefined;
  adminCredentials: { username: string; password: string } | undefined;
  jwtSecret: string | undefined;
  planApiUrl: string;
  planApiKey: string | undefined;
  planFirstByteTimeoutMs: number;
  shutdownDrainMs: number;
  /** After SIGTERM: how long new connections are still accepted while /ready already reports 503. */
  shutdownDelayMs: number;
  /** Concurrent upstream calls allowed; further requests are answered 529 at once. */
  maxUpstreamRequests: number;
  /** Where request metrics go: EMF lines on stdout (CloudWatch), GET /metrics (Prometheus), both, or nowhere. */
  metrics: 'cloudwatch' | 'prometheus' | 'both' | 'off';
  metricsFlushIntervalMs: number;
  /** IANA zone of report periods, rollup buckets and budget months (canonical spelling). */
  timezone: string;
  /** KMS key wrapping Bedrock keys' data keys; unset: LOCAL_ENCRYPTION_KEY. */
  kmsKeyId: string | undefined;
  /** Override of the KMS URL (tests, VPC endpoints). */
  kmsEndpoint: string | undefined;
  /** 32 bytes for local envelope encryption; dev generates one (secrets.ts). */
  localEncryptionKey: Buffer | undefined;
  bedrockRegion: string;
  bedrockApi: 'invoke' | 'converse' | 'messages';
  bedrockEndpoint: string | undefined;
  bedrockAuth: 'bearer' | 'sigv4';
  circuitFailureThreshold: number;
  circuitResetTimeoutMs: number;
  /** A request body slower than this (bytes per second, on average) is cut once `bodyRateGraceMs` has passed. */
  bodyMinBytesPerSecond: number;
  bodyRateGraceMs: number;
  /** Plan window utilization (0–1) at which `plan_first` requests move to Bedrock until the window resets. */
  planSwitchThreshold: number;
  /** A Claude Code session served by Bedrock stays there until it has been idle this long (its prompt cache). */
  sessionStickyMs: number;
  streamPingIntervalMs: number;
  /** Unrevoked access keys a developer may hold through their own routes (admin/me.ts). */
  developerMaxKeys: number;
  /** Company sign-in (admin/oidc.ts): unset issuer, no change. */
  oidcIssuer: string | undefined;
  oidcClientId: string | undefined;
  oidcClientSecret: string | undefined;
  oidcUsernameClaim: string;
  oidcRoleClaim: string;
  oidcAdminValues: string[];
  oidcViewerValues: string[];
  oidcRedirectUrl: string | undefined;
  /** Refuse an ID token whose `email_verified` is false when the email names the person (admin/oidc.ts). */
  oidcRequireVerifiedEmail: boolean;
  selfEnrolment: boolean;
  /** A self-enrolled user's routing strategy and monthly budget (USD; undefined: none). */
  selfEnrolmentRouting: 'plan_first' | 'bedrock_only' | 'plan_only';
  selfEnrolmentBudgetUsd: string | undefined;
  /** How long a rotated access key keeps working. */
  keyRotationGraceMs: number;
  /** Browser origins allowed to call the admin API; empty: same origin only. */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

interface Setting<K extends keyof Config> {
  env: string;
  key: K;
  doc: string;
  default: string | undefined;
  parse: (raw: string, env: Env) => Config[K];
}

const ENVIRONMENTS = ['dev', 'test', 'staging', 'prod'] as const;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function oneOf<T extends string>(allowed: readonly T[]) {
  return (raw: string): T => {
    const value = raw.toLowerCase();
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new ConfigError(`must be one of ${allowed.join(', ')} (got "${raw}")`);
  };
}

/** `true` or `false` (any case), as a boolean. */
const trueOrFalse = (raw: string): boolean => oneOf(['true', 'false'] as const)(raw) === 'true';

function integer(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max) throw new ConfigError(`must be an integer from ${min} to ${max} (got "${raw}")`);
    return n;
  };
}

/** Seconds, decimals allowed ("60", "0.5", "60s"), returned as milliseconds. */
function seconds(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*s?\s*$/.exec(raw);
  const n = match ? Number(match[1]) : NaN;
  if (!match || !(n > 0) || n > 86_400) throw new ConfigError(`must be a number of seconds greater than 0 (got "${raw}")`);
  return Math.round(n * 1000);
}

/** Like seconds(), and 0 is allowed. */
function secondsOrZero(raw: string): number {
  if (/^\s*0+(\.0+)?\s*s?\s*$/.test(raw)) return 0;
  try {
    return seconds(raw);
  } catch {
    throw new ConfigError(`must be a number of seconds, 0 or more (got "${raw}")`);
  }
}

/** A fraction above 0 and at most 1 ("0.98"). */
function unitFraction(raw: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !(n > 0 && n <= 1)) throw new ConfigError(`must be a number above 0 and at most 1, such as 0.98 (got "${raw}")`);
  return n;
}

/** `auto` (the default): cloudwatch when ENVIRONMENT is prod or staging, off elsewhere. */
function metricsMode(raw: string, env: Env): Config['metrics'] {
  if (raw.trim().toLowerCase() !== 'auto') return oneOf(['cloudwatch', 'prometheus', 'both', 'off'] as const)(raw.trim());
  const environment = (env.ENVIRONMENT ?? '').trim().toLowerCase();
  return environment === 'prod' || environment === 'staging' ? 'cloudwatch' : 'off';
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`must be an http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`must be an http(s) URL (got "${raw}")`);
  if (url.search || url.hash) throw new ConfigError('must not carry a query string or fragment');
  return url.toString().replace(/\/+$/, '');
}

/** An IANA time zone name, as Intl knows it ("Asia/Seoul", "UTC"), returned in its canonical spelling. */
function timeZone(raw: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: raw.trim() }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError(`must be an IANA time zone such as Asia/Seoul, Europe/Berlin or UTC (got "${raw}")`);
  }
}

/** A postgres:// URL, or the JSON of an RDS generated secret as ECS injects it. */
export function parseDatabaseUrl(raw: string): string {
  const text = raw.trim();
  if (text.startsWith('{')) {
    let secret: Record<string, unknown>;
    try {
      secret = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ConfigError('looks like JSON but does not parse');
    }
    const missing = ['username', 'password', 'host'].filter((f) => typeof secret[f] !== 'string' || secret[f] === '');
    if (missing.length) throw new ConfigError(`secret JSON lacks ${missing.join(', ')}`);
    const port = secret.port === undefined ? 5432 : Number(secret.port);
    if (!Number.isInteger(port)) throw new ConfigError('secret JSON has a port that is not a number');
    const db = typeof secret.dbname === 'string' && secret.dbname ? secret.dbname : 'postgres';
    const user = encodeURIComponent(secret.username as string);
    const password = encodeURIComponent(secret.password as string);
    return `postgres://${user}:${password}@${secret.host as string}:${port}/${encodeURIComponent(db)}`;
  }
  if (!/^postgres(ql)?:\/\//.test(text)) throw new ConfigError('must be a postgres:// URL or the RDS secret JSON');
  try {
    new URL(text);
  } catch {
    throw new ConfigError('is not a valid URL');
  }
  try {
    urlSslMode(text);
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new ConfigError(err.message);
    throw err;
  }
  return text;
}

/** A readable PEM file holding at least one certificate; the path, resolved. */
function caFile(raw: string): string {
  const file = path.resolve(baseDir(), raw.trim());
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${file} holds no PEM certificate`);
  return file;
}

function secret(minLength: number) {
  return (raw: string): string => {
    if (raw.length < minLength) throw new ConfigError(`must be at least ${minLength} characters`);
    return raw;
  };
}

function adminCredentials(raw: string): { username: string; password: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('must be JSON like {"username":"admin","password":"…"}');
  }
  const v = value as Record<string, unknown>;
  if (!v || typeof v.username !== 'string' || !v.username || typeof v.password !== 'string' || !v.password) {
    throw new ConfigError('must be JSON with non-empty "username" and "password" strings');
  }
  return { username: v.username, password: v.password };
}

// us-east-1, ap-northeast-2, eu-central-1, us-gov-west-1, cn-north-1 …
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function awsRegion(raw: string): string {
  const value = raw.trim();
  if (!AWS_REGION.test(value)) throw new ConfigError(`must be an AWS region like ap-northeast-2 (got "${raw}")`);
  return value;
}

function kmsKeyId(raw: string): string {
  const value = raw.trim();
  const ok =
    /^alias\/[A-Za-z0-9/_-]+$/.test(value) ||
    /^(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/.test(value) ||
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/.test(value);
  if (!ok) throw new ConfigError(`must be a KMS key id, key ARN, alias/<name> or alias ARN (got "${raw}")`);
  return value;
}

/** 32 bytes as 64 hex digits or base64 (standard or url-safe). The value is a secret: never echoed. */
export function parseEncryptionKey(raw: string): Buffer {
  const value = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value) || /^[A-Za-z0-9_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/=$/, ''), value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  throw new ConfigError('must be 32 bytes as base64 (44 characters, e.g. `openssl rand -base64 32`) or as 64 hex digits');
}

/** A USD amount as PostgreSQL numeric text ("250", "99.5"). */
function usdAmount(raw: string): string {
  const text = raw.trim();
  if (!/^\d{1,10}(\.\d{1,4})?$/.test(text)) throw new ConfigError('must be an amount in USD with at most 4 decimals, e.g. 250');
  return text;
}

/** A comma-separated list; blanks dropped. */
function commaList(raw: string): string[] {
  return raw.split(',').map((v) => v.trim()).filter(Boolean);
}

/** Comma-separated origins (`https://admin.example.com,http://localhost:5173`): scheme, host, port; nothing else. */
function origins(raw: string): string[] {
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      /* reported below */
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      throw new ConfigError(`must be a comma-separated list of origins like https://admin.example.com, without paths or "*" (got "${origin}")`);
    }
  }
  return list;
}

const baseDir = () => process.env.INIT_CWD ?? process.cwd();

/** One row per variable: the README's configuration table is this table. */
export const SETTINGS: Setting<keyof Config>[] = [
  { env: 'PORT', key: 'port', default: '8000', doc: 'listen port', parse: integer(0, 65535) },
  { env: 'HOST', key: 'host', default: '0.0.0.0', doc: 'listen address', parse: (raw) => raw.trim() || '0.0.0.0' },
  { env: 'ENVIRONMENT', key: 'environment', default: 'dev', doc: '`dev` generates missing secrets into DATA_DIR; any other value requires them', parse: oneOf(ENVIRONMENTS) },
  { env: 'LOG_LEVEL', key: 'logLevel', default: 'INFO', doc: 'trace, debug, info, warn, error, fatal or silent', parse: oneOf(LEVELS) },
  { env: 'DATABASE_URL', key: 'databaseUrl', default: undefined, doc: 'a `postgres://` URL or the RDS secret JSON (`username, password, host, port, dbname`); unset: embedded PGlite in DATA_DIR', parse: parseDatabaseUrl },
  { env: 'DATABASE_ADMIN_URL', key: 'databaseAdminUrl', default: undefined, doc: 'the master login, same forms as DATABASE_URL: when set, start-up migrates with it and creates (or updates) DATABASE_URL\'s user as a role that may only read and write the tables, then serves as that user', parse: parseDatabaseUrl },
  { env: 'DATABASE_SSL_MODE', key: 'databaseSslMode', default: undefined, doc: '`disable`, `require` (encrypted, unverified) or `verify-full` (certificate checked against DATABASE_CA_FILE and the host name); default: verify-full when ENVIRONMENT is prod, else the URL\'s `sslmode` (none: disable); the strictest of this and the URLs\' sslmode applies', parse: oneOf(SSL_MODES) },
  { env: 'DATABASE_CA_FILE', key: 'databaseCaFile', default: undefined, doc: 'PEM bundle the database\'s certificate must chain to (the image ships the RDS bundle and sets it); unset: Node\'s own roots', parse: caFile },
  { env: 'DATA_DIR', key: 'dataDir', default: './data', doc: 'embedded database files and generated dev secrets', parse: (raw) => path.resolve(baseDir(), raw) },
  { env: 'KEY_HASHER_SECRET', key: 'keyHasherSecret', default: undefined, doc: 'HMAC key for access keys (at least 32 characters); required outside dev', parse: secret(32) },
  { env: 'ADMIN_CREDENTIALS', key: 'adminCredentials', default: undefined, doc: 'JSON `{"username","password"}`; dev: generated and printed once; required outside dev', parse: adminCredentials },
  { env: 'JWT_SECRET', key: 'jwtSecret', default: undefined, doc: 'admin token signing key (default: derived from KEY_HASHER_SECRET)', parse: secret(32) },
  { env: 'PLAN_API_URL', key: 'planApiUrl', default: 'https://api.anthropic.com', doc: 'the Anthropic upstream', parse: httpUrl },
  { env: 'PLAN_API_KEY', key: 'planApiKey', default: undefined, doc: 'Anthropic key used when the client sends no credential', parse: (raw) => raw },
  { env: 'PLAN_FIRST_BYTE_TIMEOUT', key: 'planFirstByteTimeoutMs', default: '60', doc: 'seconds to wait for Anthropic\'s first byte', parse: seconds },
  { env: 'SHUTDOWN_DRAIN_SECONDS', key: 'shutdownDrainMs', default: '120', doc: 'shutdown budget after SIGTERM: in-flight streams may finish until this much time (less up to 5 s kept for flushing usage) has passed, then get an Anthropic `error` event', parse: seconds },
  { env: 'SHUTDOWN_DELAY_SECONDS', key: 'shutdownDelayMs', default: '5', doc: 'seconds after SIGTERM during which /ready reports 503 but new connections are still accepted, so the load balancer stops sending first (0: refuse at once)', parse: secondsOrZero },
  { env: 'MAX_UPSTREAM_REQUESTS', key: 'maxUpstreamRequests', default: '1000', doc: 'concurrent upstream calls (Anthropic and Bedrock); a request beyond it gets `529 overloaded_error` at once', parse: integer(1, 100_000) },
  { env: 'METRICS', key: 'metrics', default: 'auto', doc: '`cloudwatch` (embedded metric format lines on stdout), `prometheus` (`GET /metrics`), `both` or `off`; `auto`: cloudwatch when ENVIRONMENT is prod or staging, else off', parse: metricsMode },
  { env: 'METRICS_FLUSH_INTERVAL', key: 'metricsFlushIntervalMs', default: '60', doc: 'seconds between CloudWatch metric flushes (one aggregate per interval, never a line per request)', parse: seconds },
  { env: 'TIMEZONE', key: 'timezone', default: 'UTC', doc: 'IANA time zone of report periods, hour/day/month usage buckets and budget months; a database keeps the zone it was first started with (see settleTimeZone)', parse: timeZone },
  { env: 'KMS_KEY_ID', key: 'kmsKeyId', default: undefined, doc: 'KMS key (id, ARN or alias) wrapping the data keys of stored Bedrock keys; unset: LOCAL_ENCRYPTION_KEY', parse: kmsKeyId },
  { env: 'KMS_ENDPOINT', key: 'kmsEndpoint', default: undefined, doc: 'override the KMS URL (tests, VPC endpoints)', parse: httpUrl },
  { env: 'LOCAL_ENCRYPTION_KEY', key: 'localEncryptionKey', default: undefined, doc: '32 bytes (base64 or 64 hex) for local envelope encryption; dev: generated; required outside dev unless KMS_KEY_ID is set', parse: parseEncryptionKey },
  { env: 'BEDROCK_REGION', key: 'bedrockRegion', default: 'us-east-1', doc: 'Bedrock region for keys without one of their own', parse: awsRegion },
  { env: 'BEDROCK_API', key: 'bedrockApi', default: 'invoke', doc: '`invoke` (native body), `converse` (Converse API) or `messages` (Bedrock\'s Anthropic Messages endpoint)', parse: oneOf(['invoke', 'converse', 'messages'] as const) },
  { env: 'BEDROCK_ENDPOINT', key: 'bedrockEndpoint', default: undefined, doc: 'override the Bedrock URL (tests, VPC endpoints)', parse: httpUrl },
  { env: 'BEDROCK_AUTH', key: 'bedrockAuth', default: 'bearer', doc: '`bearer` (the access key\'s Bedrock API key) or `sigv4` (the task role)', parse: oneOf(['bearer', 'sigv4'] as const) },
  { env: 'CIRCUIT_FAILURE_THRESHOLD', key: 'circuitFailureThreshold', default: '3', doc: 'failures that open an access key\'s circuit breaker', parse: integer(1, 1000) },
  { env: 'CIRCUIT_RESET_TIMEOUT', key: 'circuitResetTimeoutMs', default: '1800', doc: 'seconds an open breaker waits before one probe goes to Anthropic', parse: seconds },
  { env: 'BODY_MIN_RATE', key: 'bodyMinBytesPerSecond', default: '16', doc: 'KB/s: a request body arriving slower than this on average is cut (408) once `BODY_RATE_GRACE` has passed', parse: (raw) => integer(1, 1_000_000)(raw) * 1024 },
  { env: 'BODY_RATE_GRACE', key: 'bodyRateGraceMs', default: '30', doc: 'seconds a request body may take before `BODY_MIN_RATE` applies', parse: seconds },
  { env: 'PLAN_SWITCH_THRESHOLD', key: 'planSwitchThreshold', default: '0.98', doc: 'Plan window utilization (0–1) at which `plan_first` requests move to Bedrock until that window resets; a user\'s own threshold wins', parse: unitFraction },
  { env: 'SESSION_STICKY_IDLE', key: 'sessionStickyMs', default: '300', doc: 'seconds a Claude Code session that moved to Bedrock stays there after its last turn (its prompt cache stays warm); 0: no stickiness', parse: secondsOrZero },
  { env: 'KEY_ROTATION_GRACE', key: 'keyRotationGraceMs', default: '300', doc: 'seconds a rotated access key keeps working before the server revokes it', parse: seconds },
  { env: 'CORS_ORIGINS', key: 'corsOrigins', default: '', doc: 'comma-separated browser origins allowed to call the admin API; unset: same origin only', parse: origins },
  { env: 'STREAM_PING_INTERVAL', key: 'streamPingIntervalMs', default: '15', doc: 'seconds between SSE pings while a stream waits for its first upstream byte', parse: seconds },
  { env: 'DEVELOPER_MAX_KEYS', key: 'developerMaxKeys', default: '3', doc: 'unrevoked access keys a developer may hold when issuing their own (admins are not limited)', parse: integer(0, 1000) },
  { env: 'OIDC_ISSUER', key: 'oidcIssuer', default: undefined, doc: 'OpenID Connect issuer URL for company sign-in; unset: only the ADMIN_CREDENTIALS account', parse: httpUrl },
  { env: 'OIDC_CLIENT_ID', key: 'oidcClientId', default: undefined, doc: 'the client id registered with the issuer', parse: (raw) => raw.trim() },
  { env: 'OIDC_CLIENT_SECRET', key: 'oidcClientSecret', default: undefined, doc: 'the client secret (a secret)', parse: (raw) => raw },
  { env: 'OIDC_USERNAME_CLAIM', key: 'oidcUsernameClaim', default: 'email', doc: 'ID token claim that names the person', parse: (raw) => raw.trim() },
  { env: 'OIDC_ROLE_CLAIM', key: 'oidcRoleClaim', default: 'groups', doc: 'ID token claim (a string or a list) whose values give the role', parse: (raw) => raw.trim() },
  { env: 'OIDC_ADMIN_VALUES', key: 'oidcAdminValues', default: '', doc: 'comma-separated role-claim values that make an admin', parse: commaList },
  { env: 'OIDC_VIEWER_VALUES', key: 'oidcViewerValues', default: '', doc: 'comma-separated role-claim values that make a viewer; anyone else signed in is a developer', parse: commaList },
  { env: 'OIDC_REDIRECT_URL', key: 'oidcRedirectUrl', default: undefined, doc: 'the callback URL registered with the issuer; default: the request\'s origin + /admin/auth/oidc/callback', parse: httpUrl },
  { env: 'OIDC_REQUIRE_VERIFIED_EMAIL', key: 'oidcRequireVerifiedEmail', default: 'true', doc: 'with OIDC_USERNAME_CLAIM=email, refuse a sign-in whose ID token says `email_verified: false` (the email links the person to a user); `false`: accept it', parse: trueOrFalse },
  { env: 'SELF_ENROLMENT', key: 'selfEnrolment', default: 'false', doc: '`true`: a developer signing in with no user of their email gets one', parse: trueOrFalse },
  { env: 'SELF_ENROLMENT_ROUTING', key: 'selfEnrolmentRouting', default: 'plan_first', doc: 'routing strategy of a self-enrolled user', parse: oneOf(['plan_first', 'bedrock_only', 'plan_only'] as const) },
  { env: 'SELF_ENROLMENT_BUDGET', key: 'selfEnrolmentBudgetUsd', default: undefined, doc: 'monthly Bedrock budget (USD) of a self-enrolled user; unset: none', parse: usdAmount },
];

/** Whether the environment sets `name` (an empty value counts as unset, as it does for every setting). */
export function isSet(name: string, env: Env = process.env): boolean {
  const raw = env[name];
  return raw !== undefined && raw !== '';
}

/** Reads and validates the environment. Throws ConfigError("NAME: what is wrong") on the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const config = {} as Record<keyof Config, unknown>;
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    const value = isSet(setting.env, env) ? raw : setting.default;
    if (value === undefined) {
      config[setting.key] = undefined;
      continue;
    }
    try {
      config[setting.key] = setting.parse(value, env);
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : String(err);
      throw new ConfigError(`${setting.env}: ${reason}`);
    }
  }
  const result = config as unknown as Config;
  settleDatabaseTls(result);
  if (result.environment !== 'dev') {
    for (const [name, present] of [
      ['KEY_HASHER_SECRET', result.keyHasherSecret],
      ['ADMIN_CREDENTIALS', result.adminCredentials],
    ] as const) {
      if (!present) throw new ConfigError(`${name}: required when ENVIRONMENT=${result.environment} (only dev generates it)`);
    }
    if (!result.kmsKeyId && !result.localEncryptionKey) {
      throw new ConfigError(`LOCAL_ENCRYPTION_KEY: required when ENVIRONMENT=${result.environment} unless KMS_KEY_ID is set (only dev generates it)`);
    }
  }
  if (result.environment === 'prod' || result.environment === 'staging') refuseWeakSecrets(result);
  return result;
}

/**
 * The TLS mode of the database connections: DATABASE_SSL_MODE, else verify-full in prod and
 * disable elsewhere, made stricter by an sslmode in either URL (never weaker). In prod the
 * connection must be verify-full against a CA bundle.
 */
function settleDatabaseTls(config: Config): void {
  if (config.databaseAdminUrl && !config.databaseUrl) {
    throw new ConfigError('DATABASE_ADMIN_URL: needs DATABASE_URL, the login the server serves with');
  }
  const asked = config.databaseSslMode ?? (config.environment === 'prod' ? 'verify-full' : 'disable');
  const fromUrls = [config.databaseUrl, config.databaseAdminUrl].flatMap((url) => {
    const mode = url === undefined ? undefined : urlSslMode(url);
    return mode ? [mode] : [];
  });
  config.databaseSslMode = strictestSslMode([asked, ...fromUrls]);
  if (config.environment !== 'prod' || !config.databaseUrl) return;
  if (config.databaseSslMode !== 'verify-full') {
    throw new ConfigError(`DATABASE_SSL_MODE: must be verify-full when ENVIRONMENT=prod (got ${config.databaseSslMode})`);
  }
  if (!config.databaseCaFile) {
    throw new ConfigError('DATABASE_CA_FILE: required when ENVIRONMENT=prod (the CA bundle that signs the database\'s certificate)');
  }
}

/** Defaults, placeholders and patterns do not reach prod or staging (security/secret-strength.ts). */
function refuseWeakSecrets(config: Config): void {
  const when = `when ENVIRONMENT=${config.environment}`;
  const weak: [string, string | null][] = [
    ['KEY_HASHER_SECRET', config.keyHasherSecret === undefined ? null : weakSecret(config.keyHasherSecret)],
    ['JWT_SECRET', config.jwtSecret === undefined ? null : weakSecret(config.jwtSecret)],
    // A hash from `ccproxy admin hash-password` cannot be judged; the password behind it was typed by a person.
    ['ADMIN_CREDENTIALS', !config.adminCredentials || isPasswordHash(config.adminCredentials.password) ? null : weakAdminPassword(config.adminCredentials.username, config.adminCredentials.password)],
    ['LOCAL_ENCRYPTION_KEY', config.localEncryptionKey === undefined ? null : weakEncryptionKey(config.localEncryptionKey)],
  ];
  for (const [name, reason] of weak) if (reason) throw new ConfigError(`${name}: ${reason} ${when}`);
}

/** TIMEZONE's default before migration 0009 recorded each database's zone: the zone of rollups written without a record. */
const PRE_0009_TIME_ZONE = 'Asia/Seoul';

/**
 * The zone a database's reports run in. Rollup buckets and budget months are cut in the zone of the
 * task that wrote them, so a database keeps one zone for life: the first start records TIMEZONE
 * (default UTC); later starts use the recorded zone unless TIMEZONE is set, and refuse a different
 * one once anything was cut in the old zone (the day and month buckets of two zones would straddle).
 * With nothing cut yet, a set TIMEZONE simply replaces the record. A database from before the record
 * that already has rollups adopts TIMEZONE if it is set, else the old default, Asia/Seoul, provided
 * its latest day bucket starts at midnight in that zone (else the rollups were cut in another one).
 */
export function settleTimeZone(
  configured: { zone: string; set: boolean },
  stored: { timeZone: string | null; hasZonedData: boolean; latestDayStart: Date | null },
): { zone: string; record: boolean } {
  if (stored.timeZone === null) {
    if (!stored.hasZonedData) return { zone: configured.zone, record: true };
    const zone = configured.set ? configured.zone : PRE_0009_TIME_ZONE;
    const day = stored.latestDayStart;
    if (day && startOf(day, 'day', zone).getTime() !== day.getTime()) {
      throw new ConfigError(
        `TIMEZONE: the usage rollups in this database were not cut in ${zone} (their days start at ${day.toISOString().slice(11, 16)} UTC); ` +
          `set TIMEZONE to the zone they were written in`,
      );
    }
    return { zone, record: true };
  }
  if (!configured.set || configured.zone === stored.timeZone) return { zone: stored.timeZone, record: false };
  if (!stored.hasZonedData) return { zone: configured.zone, record: true };
  throw new ConfigError(
    `TIMEZONE: this database's usage rollups and budget months are in ${stored.timeZone}; ${configured.zone} would mix day and month buckets of two zones. ` +
      `Unset TIMEZONE or set it to ${stored.timeZone}`,
  );
}
