import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

// The logger redacts, so no call site has to remember to. Two layers:
// 1. pino's own path redaction for fields we know hold secrets (headers, passwords, keys, tokens);
// 2. a scrub of every finished line (`hooks.streamWrite`) for secret-shaped text wherever it ended
//    up: an access key in an error message, a JWT in a URL, a password inside a logged body string.
const SECRET_FIELDS = [
  'authorization',
  'x-api-key',
  'x-proxy-key',
  'x-amz-security-token',
  'cookie',
  'set-cookie',
  'password',
  'token',
  'access_token',
  'refresh_token',
  'raw_key',
  'rawKey',
  'bedrock_api_key',
  'bedrockApiKey',
  'apiKey',
  'api_key',
  'secret',
  'secretAccessKey',
  'sessionToken',
];

// Paths pino redacts itself: headers where they are usually logged, and secret fields at the top.
// One level down (`{ body: { password } }`) is `censorFields` below: pino's own `*` wildcard runs its
// redactor on every value of every line, and cost more than the rest of a proxied request.
const REDACT_PATHS = [
  ...['req.headers', 'headers', 'request.headers'].flatMap((at) =>
    ['authorization', 'x-api-key', 'x-proxy-key', 'x-amz-security-token', 'cookie', 'set-cookie'].map((h) => `${at}["${h}"]`),
  ),
  ...SECRET_FIELDS.map((field) => `["${field}"]`),
];

const CENSOR = '[redacted]';

/**
 * `value` with its secret-named fields replaced by the censor, as a shallow copy (same prototype,
 * same own enumerable fields, so it serialises as the original did); `value` itself when it holds none.
 */
export function censorFields<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const field of SECRET_FIELDS) {
    if (!(field in value)) continue;
    copy ??= Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>, value);
    copy[field] = CENSOR;
  }
  return (copy ?? value) as T;
}

/** Every value of a logged object one level down, censored (`err` is censored by its serializer, after serialising). */
function censorNested(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const key in obj) {
    const value = obj[key];
    if (key === 'err' || value === null || typeof value !== 'object') continue;
    const censored = censorFields(value);
    if (censored === value) continue;
    if (out === obj) out = { ...obj };
    out[key] = censored;
  }
  return out;
}

/** "/ak/ak_abcdef…/v1/messages" → "/ak/ak_abcde…/v1/messages": enough to tell keys apart, never the key. */
export function redactUrl(url: string): string {
  return url.replace(KEY_IN_PATH, (_m, head: string) => `/ak/${head}…`);
}

const KEY_IN_PATH = /\/ak\/([^/?#\s"\\]{1,8})[^/?#\s"\\]*/g;

// Names whose string value is a secret wherever it appears in a line, also inside a JSON string that
// was logged as text (`\"password\":\"…\"`). The value runs to its closing quote, or to the end of a
// truncated string (a body cut short still hides its secret).
const SECRET_NAME = String.raw`(?:password|passwd|secret|token|access_token|refresh_token|raw_key|api[_-]?key|x-api-key|x-proxy-key|authorization|bedrock_api_key|bedrockApiKey|apiKey|rawKey|secretAccessKey|sessionToken|client_secret|key_hasher_secret|jwt_secret|local_encryption_key)`;
const QUOTED_SECRET = new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*")((?:[^"\\]|\\.)*)`, 'gi');
// Inside a JSON string, an inner string's escaped quote is \\\" and its escaped backslash \\\\.
const ESCAPED_SECRET = new RegExp(String.raw`(\\"${SECRET_NAME}\\"\s*:\s*\\")((?:[^"\\]|\\\\\\\\|\\\\\\"|\\\\[^"\\])*)`, 'gi');

type Replacement = string | ((match: string, ...groups: string[]) => string);

/**
 * Secret-shaped text, whatever field it sits in. Order matters: longer shapes first. The third
 * element, when given, is text every match contains (case included): a line without it is skipped
 * without running the pattern, which is what most lines are.
 */
const SECRET_SHAPES: [RegExp, Replacement, string?][] = [
  // JWTs (admin tokens): header.payload.signature, both JSON parts base64url of "{".
  [/eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]', 'eyJ'],
  // Amazon Bedrock API keys: long-term "ABSK…" and short-term "bedrock-api-key-…".
  [/bedrock-api-key-[A-Za-z0-9+/=_-]{8,}/g, '[redacted-bedrock-key]', 'bedrock-api-key-'],
  [/ABSK[A-Za-z0-9+/=_-]{16,}/g, '[redacted-bedrock-key]', 'ABSK'],
  // Anthropic keys and OAuth tokens (sk-ant-api03-…, sk-ant-oat01-…) and other sk- keys.
  [/sk-ant-[A-Za-z0-9_-]{6,}/g, 'sk-ant-[redacted]', 'sk-ant-'],
  [/\bsk-[A-Za-z0-9_-]{20,}/g, 'sk-[redacted]', 'sk-'],
  // Credentials in an Authorization value, however it was logged.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, (_m, scheme: string) => `${scheme} ${CENSOR}`],
  // user:password@ in URLs (database URLs in error messages).
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"\\]+):[^\s@"\\/]+@/gi, (_m, head: string) => `${head}:${CENSOR}@`, '://'],
  // Access keys: in /ak/ paths, and anywhere else in full ("ak_" + 43 characters) → their prefix.
  [KEY_IN_PATH, (_m, head: string) => `/ak/${head}…`, '/ak/'],
  [/\bak_([A-Za-z0-9_-]{8})[A-Za-z0-9_-]{24,}/g, (_m, head: string) => `ak_${head}…`, 'ak_'],
  [QUOTED_SECRET, (_m, name: string) => `${name}${CENSOR}`],
  [ESCAPED_SECRET, (_m, name: string) => `${name}${CENSOR}`],
];

/** Replaces every secret-shaped piece of a finished log line. The result is still one JSON line. */
export function scrubSecrets(line: string): string {
  let out = line;
  for (const [pattern, replacement, needle] of SECRET_SHAPES) {
    if (needle !== undefined && !out.includes(needle)) continue;
    out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  }
  return out;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { level: (label) => ({ level: label }), log: censorNested },
      serializers: {
        url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
        err: (err: Error) => censorFields(pino.stdSerializers.err(err)),
      },
      hooks: { streamWrite: scrubSecrets },
    },
    destination,
  );
}
