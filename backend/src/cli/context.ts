import { parseArgs } from 'node:util';

// What every command gets: the parsed command line, the server, and how to fail in words.

/** An error the CLI prints as its message alone ("ccproxy: …") before exiting with 1. */
export class CliError extends Error {}

export interface Globals {
  url: string;
  json: boolean;
}

const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  username: { type: 'string', default: 'admin' },
  description: { type: 'string' },
  limit: { type: 'string', default: '50' },
  offset: { type: 'string', default: '0' },
  'bedrock-region': { type: 'string' },
  name: { type: 'string' },
  routing: { type: 'string' },
  budget: { type: 'string' },
  delete: { type: 'boolean', default: false },
  status: { type: 'string' },
  q: { type: 'string' },
  yes: { type: 'boolean', default: false },
  geographies: { type: 'string' },
  action: { type: 'string' },
  actor: { type: 'string' },
  target: { type: 'string' },
  'target-type': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  user: { type: 'string' },
  key: { type: 'string' },
  provider: { type: 'string' },
  model: { type: 'string' },
  period: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  bucket: { type: 'string' },
  by: { type: 'string' },
  region: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  'cache-write-5m': { type: 'string' },
  'cache-write-1h': { type: 'string' },
  'cache-read': { type: 'string' },
  effective: { type: 'string' },
  current: { type: 'boolean', default: false },
  rpm: { type: 'string' },
  'in-flight': { type: 'string' },
  threshold: { type: 'string' },
  overage: { type: 'string' },
  role: { type: 'string' },
  days: { type: 'string' },
} as const;

/** Every option of every command: one parse, so an unknown option fails the same way everywhere. */
export function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

export type Values = ReturnType<typeof parseCommandLine>['values'];

/** One command's input: `ccproxy <group> <action> <arg> …`. */
export interface Command {
  g: Globals;
  values: Values;
  positionals: string[];
  action: string | undefined;
  arg: string | undefined;
}

export type Handler = (command: Command) => Promise<void>;

export function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`missing ${what}; see "ccproxy --help"`);
  return value;
}
