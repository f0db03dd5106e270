import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

// The logger redacts, so no call site has to remember to.
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-proxy-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-proxy-key"]',
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  'raw_key',
  '*.raw_key',
  'bedrock_api_key',
  '*.bedrock_api_key',
  'bedrockApiKey',
  '*.bedrockApiKey',
];

const KEY_IN_PATH = /\/ak\/([^/?#]{1,8})[^/?#]*/g;

/** "/ak/ak_abcdef…/v1/messages" → "/ak/ak_abcde…/v1/messages": enough to tell keys apart, never the key. */
export function redactUrl(url: string): string {
  return url.replace(KEY_IN_PATH, (_m, head: string) => `/ak/${head}…`);
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      serializers: {
        url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
