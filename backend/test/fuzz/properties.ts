/**
 * Property-based fuzzing of the real server over HTTP: malformed, huge, deeply nested and oddly
 * encoded inputs to the proxy routes and to every admin route of the OpenAPI document. The
 * properties hold for any input: never a 5xx, errors in the route's own shape, no stack trace or
 * internal text in a body, and /health still answering. Shared by the test suite
 * (test/integration/fuzz-*.test.ts, a fixed seed and few runs) and bench/fuzz.ts (many runs);
 * free of vitest, so the benchmark workspace can run it with plain Node.
 */
import fc from 'fast-check';
import { request } from 'undici';

export interface FuzzKey {
  rawKey: string;
  userId: string;
  accessKeyId: string;
}

/** One operation of /admin/openapi.json, as the fuzzer needs it. */
export interface AdminOperation {
  method: string;
  /** OpenAPI form: /admin/users/{id} */
  path: string;
  query: string[];
  /** The body's top-level property names; null: the operation takes no body. */
  bodyFields: string[] | null;
}

/** A running server with what the properties need: a plan_first key, a bedrock_only key with its Bedrock key, an admin token. */
export interface FuzzTarget {
  url: string;
  adminToken: string;
  plan: FuzzKey;
  bedrock: FuzzKey;
  operations: AdminOperation[];
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** Sends one request; a dropped connection is an answer of status 0 (a failure for every property). */
export async function send(url: string, sent: Sent): Promise<Answer> {
  try {
    const res = await request(`${url}${sent.path}`, {
      method: sent.method as 'GET',
      headers: sent.headers,
      body: sent.body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  } catch (err) {
    return { status: 0, headers: {}, text: `connection failed: ${(err as Error).message}` };
  }
}

// ── Building blocks ────────────────────────────────────────────────────────────────────────────

/** Numbers as raw JSON text, since a JS number cannot carry -0, 1e309 or 30 digits through JSON.stringify. */
export const RAW_NUMBERS = [
  '-0', '0', '-1', '1e309', '-1e309', '1e-400', '123456789012345678901234567890', '9007199254740993', '2147483648',
  '-2147483649', '1.5', '0.1e1', '1E2', '1e20', '4294967296', '18446744073709551616',
] as const;

/** Strings that have broken servers: NUL, lone surrogates, bidi, BOM, paths, templates, SQL. */
const NASTY_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\u202e', '\ufeff', '\u0007\u001b[31m', '\r\n', '%00', '%ff', '..%2f..%2f',
  '../../etc/passwd', '${process.env.HOME}', '{{7*7}}', "'; DROP TABLE users; --", '__proto__', 'constructor', 'null', 'NaN',
  '00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000000',
] as const;

const RAW_MARK = '\u0001raw:';
/** A JSON value that serialize() writes as the raw number text. */
const rawNumber = fc.constantFrom(...RAW_NUMBERS).map((n) => `${RAW_MARK}${n}`);

/** JSON text of `value`, raw-number markers written as their bare text. */
export function serialize(value: unknown): string {
  // The marker starts with U+0001, which JSON.stringify escapes as \u0001.
  return JSON.stringify(value).replace(/"\\u0001raw:([^"]*)"/g, '$1');
}

const longString = fc.integer({ min: 1_000, max: 120_000 }).map((n) => 'x'.repeat(n));
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: longString },
);

/** Any JSON value, with the odd strings and raw numbers mixed in. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(weirdString, rawNumber, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
export const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...NASTY_STRINGS)), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** `depth` arrays or objects around `inner`, as text (as a value, serializing it would recurse). */
const nested = (depth: number, kind: 'array' | 'object', inner = '1') =>
  kind === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

/** Bytes invalid as UTF-8: lone continuation bytes, overlong NUL, an encoded surrogate, a truncated sequence, 0xFF. */
const BAD_UTF8 = [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]] as const;

/** Corrupts JSON text as a transport or a broken client might. */
type Mangle = { kind: 'none' } | { kind: 'utf8'; at: number; bytes: number } | { kind: 'truncate'; at: number } | { kind: 'garbage'; bytes: Uint8Array };
const mangle: fc.Arbitrary<Mangle> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('utf8' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.nat(BAD_UTF8.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 512 }) }) },
);

function applyMangle(text: string, m: Mangle): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  switch (m.kind) {
    case 'none':
      return bytes;
    case 'utf8': {
      const at = Math.floor(m.at * bytes.length);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(BAD_UTF8[m.bytes]!), bytes.subarray(at)]);
    }
    case 'truncate':
      return bytes.subarray(0, Math.floor(m.at * bytes.length));
    case 'garbage':
      return Buffer.from(m.bytes);
  }
}

const contentType = fc.constantFrom<string | undefined>('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined, 'application/json; charset=latin1');

/** A query-string or path value, percent-encoded (so NUL, surrogates and slashes arrive as the server decodes them). */
const encoded = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate cannot be encoded: send its (invalid UTF-8) bytes instead
  }
};

// ── Answers ────────────────────────────────────────────────────────────────────────────────────

/** Text that gives away the server's insides: a stack frame, a JS error name, a source path. */
const INTERNAL = /Maximum call stack|TypeError|ReferenceError|RangeError|SyntaxError: |\n\s+at |\bat .*\(.*:\d+:\d+\)|node_modules|\.ts:\d+|duplicate key|violates|invalid byte sequence|relation "/;

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

function fail(why: string, sent: Sent, answer: Answer): never {
  const body = sent.body ? `${sent.body.length} bytes: ${sent.body.subarray(0, 200).toString('latin1')}` : 'no body';
  throw new FuzzFailure(`${why}\n  ${sent.method} ${sent.path.slice(0, 300)} (${body})\n  → ${answer.status} ${answer.text.slice(0, 500)}`);
}

function common(sent: Sent, answer: Answer): void {
  if (answer.status === 0) fail('the connection failed', sent, answer);
  if (answer.status >= 500) fail(`a ${answer.status}`, sent, answer);
  if (INTERNAL.test(answer.text)) fail('internal text in the body', sent, answer);
}

/** Proxy routes: 2xx or 4xx; errors in Anthropic's shape with the request id. */
export function checkProxyAnswer(sent: Sent, answer: Answer): void {
  common(sent, answer);
  if (answer.status < 400) return;
  let body: { type?: unknown; error?: { type?: unknown; message?: unknown }; request_id?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return fail('an error that is not JSON', sent, answer);
  }
  if (body.type !== 'error' || typeof body.error?.type !== 'string' || typeof body.error.message !== 'string' || typeof body.request_id !== 'string') {
    fail("an error not in Anthropic's shape {type:'error',error:{type,message},request_id}", sent, answer);
  }
}

/** Admin routes: 2xx or 4xx; errors as {error:{type,message}}. */
export function checkAdminAnswer(sent: Sent, answer: Answer): void {
  common(sent, answer);
  if (answer.status < 400) return;
  let body: { error?: { type?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return fail('an error that is not JSON', sent, answer);
  }
  if (typeof body.error?.type !== 'string' || typeof body.error.message !== 'string') fail('an error not shaped {error:{type,message}}', sent, answer);
}

async function healthy(url: string): Promise<void> {
  const res = await send(url, { method: 'GET', path: '/health' });
  if (res.status !== 200) throw new FuzzFailure(`/health answered ${res.status} ${res.text.slice(0, 200)}`);
}

// ── Proxy ──────────────────────────────────────────────────────────────────────────────────────

const MODELS = ['claude-opus-5-5', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-3-5-haiku-20241022'] as const;

const block: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(weirdString, jsonish) }),
  fc.record({ type: fc.constant('tool_use'), id: weirdString, name: weirdString, input: jsonish }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('tool_result'), tool_use_id: weirdString, content: fc.oneof(weirdString, jsonish), is_error: jsonish }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('thinking'), thinking: weirdString, signature: weirdString }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('image'), source: fc.record({ type: fc.constantFrom('base64', 'url'), media_type: weirdString, data: weirdString }) }),
  fc.record({ type: fc.oneof(weirdString, jsonish), cache_control: jsonish }, { requiredKeys: [] }),
);
const message = fc.record(
  { role: fc.oneof(fc.constantFrom('user', 'assistant'), weirdString), content: fc.oneof(weirdString, fc.array(block, { maxLength: 4 }), jsonish) },
  { requiredKeys: [] },
);

/** A Messages body: mostly plausible fields with odd values, sometimes not an object at all. */
const messagesValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        model: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...MODELS) }, { weight: 1, arbitrary: weirdString }, { weight: 1, arbitrary: jsonish }),
        max_tokens: fc.oneof(fc.integer({ min: 1, max: 64 }), rawNumber, jsonish),
        messages: fc.oneof({ weight: 4, arbitrary: fc.array(message, { maxLength: 4 }) }, { weight: 1, arbitrary: jsonish }),
        stream: fc.oneof(fc.boolean(), jsonish),
        system: fc.oneof(weirdString, fc.array(block, { maxLength: 2 }), jsonish),
        tools: fc.oneof(fc.array(fc.record({ name: weirdString, description: weirdString, input_schema: jsonish }, { requiredKeys: [] }), { maxLength: 3 }), jsonish),
        tool_choice: jsonish,
        temperature: fc.oneof(rawNumber, jsonish),
        thinking: fc.oneof(fc.record({ type: fc.constantFrom('enabled', 'adaptive', 'disabled'), budget_tokens: fc.oneof(rawNumber, fc.integer()) }), jsonish),
        metadata: fc.oneof(fc.record({ user_id: weirdString }), jsonish),
        stop_sequences: jsonish,
      },
      { requiredKeys: ['model'] },
    ),
  },
  { weight: 1, arbitrary: jsonish },
);

/** Where a deep nest goes in an otherwise valid body. */
const deepBody = fc
  .record({ depth: fc.integer({ min: 1, max: 5_000 }), kind: fc.constantFrom<'array' | 'object'>('array', 'object'), where: fc.constantFrom('content', 'schema', 'metadata', 'system') })
  .map(({ depth, kind, where }) => {
    const deep = nested(depth, kind);
    const model = '"model":"claude-opus-5-5","max_tokens":5';
    switch (where) {
      case 'content':
        return `{${model},"messages":[{"role":"user","content":${deep}}]}`;
      case 'schema':
        return `{${model},"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${deep}}]}`;
      case 'metadata':
        return `{${model},"messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`;
      default:
        return `{${model},"system":${deep},"messages":[{"role":"user","content":"hi"}]}`;
    }
  });

const proxyBody = fc
  .tuple(fc.oneof({ weight: 5, arbitrary: messagesValue.map(serialize) }, { weight: 2, arbitrary: deepBody }), mangle)
  .map(([text, m]) => applyMangle(text, m));

type Who = 'plan' | 'bedrock' | 'nobody';
const keyOf = (target: FuzzTarget, who: Who, junk: string) => (who === 'plan' ? target.plan.rawKey : who === 'bedrock' ? target.bedrock.rawKey : junk);

/** POST /v1/messages and count_tokens, the key in the path or in x-proxy-key: odd bodies, headers and content types. */
export function proxyMessagesProperty(target: FuzzTarget) {
  return fc.asyncProperty(
    fc.record({
      endpoint: fc.constantFrom('/v1/messages', '/v1/messages', '/v1/messages/count_tokens'),
      who: fc.constantFrom<Who>('plan', 'bedrock', 'bedrock', 'nobody'),
      inHeader: fc.boolean(),
      junkKey: weirdString,
      body: proxyBody,
      contentType: contentType,
      version: fc.oneof(fc.constant('2023-06-01'), weirdString.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 200)),
      beta: fc.option(fc.constantFrom('interleaved-thinking-2025-05-14', 'context-management-2025-06-27', ',,,', 'x'.repeat(300))),
    }),
    async (c) => {
      const key = keyOf(target, c.who, c.junkKey);
      const headers: Record<string, string> = { 'anthropic-version': c.version };
      if (c.contentType) headers['content-type'] = c.contentType;
      if (c.beta) headers['anthropic-beta'] = c.beta;
      let path: string = c.endpoint;
      if (c.inHeader) {
        // A header cannot carry every string: undici refuses control characters, so those go in the path.
        if (/^[\x20-\x7e]*$/.test(key) && key.length < 8_000) headers['x-proxy-key'] = key;
        else path = `/ak/${encoded(key.slice(0, 8_000))}${c.endpoint}`;
      } else path = `/ak/${encoded(key.slice(0, 8_000))}${c.endpoint}`;
      const sent = { method: 'POST', path, headers, body: c.body };
      checkProxyAnswer(sent, await send(target.url, sent));
      await healthy(target.url);
    },
  );
}

/** The gateway's other routes: /v1/models (and one model), /status (GET with a query, POST with a body), /api/hello. */
export function proxyGatewayProperty(target: FuzzTarget) {
  const queryValue = fc.oneof(fc.constantFrom(...RAW_NUMBERS), weirdString.map((s) => s.slice(0, 2_000)));
  return fc.asyncProperty(
    fc.record({
      route: fc.constantFrom('/v1/models', '/v1/models/{id}', '/status', '/status', '/api/hello'),
      method: fc.constantFrom('GET', 'GET', 'POST'),
      who: fc.constantFrom<Who>('plan', 'bedrock', 'nobody'),
      inHeader: fc.boolean(),
      junkKey: weirdString,
      id: fc.oneof(fc.constantFrom(...MODELS), weirdString.map((s) => s.slice(0, 2_000))),
      query: fc.array(fc.tuple(fc.constantFrom('limit', 'after_id', 'before_id', 'format', 'model', 'session_id', 'x'), queryValue), { maxLength: 4 }),
      body: fc.oneof(jsonish.map(serialize), fc.constant('')).chain((text) => mangle.map((m) => applyMangle(text, m))),
    }),
    async (c) => {
      const key = keyOf(target, c.who, c.junkKey);
      const route = c.route.replace('{id}', encoded(c.id));
      const method = c.route === '/status' ? c.method : 'GET';
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const keyHeader = c.inHeader && /^[\x20-\x7e]*$/.test(key) && key.length < 8_000;
      if (keyHeader) headers['x-proxy-key'] = key;
      const query = c.query.map(([k, v]) => `${k}=${encoded(v)}`).join('&');
      const path = `${keyHeader ? '' : `/ak/${encoded(key.slice(0, 8_000))}`}${route}${query ? `?${query}` : ''}`;
      const sent = { method, path, headers, body: method === 'POST' ? c.body : undefined };
      checkProxyAnswer(sent, await send(target.url, sent));
      await healthy(target.url);
    },
  );
}

// ── Admin ──────────────────────────────────────────────────────────────────────────────────────

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string }[];
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
      }
    >
  >;
}

/** The operations of an OpenAPI document (as admin-routes.test.ts reads it). */
export function adminOperations(doc: OpenApiDocument): AdminOperation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      bodyFields: op.requestBody ? Object.keys(op.requestBody.content['application/json']?.schema.properties ?? {}) : null,
    })),
  );
}

/** Values the admin schemas bound or parse: amounts, dates, regions, ids, limits. */
const ADMIN_VALUES = [
  '250', '99.5', '-1', '0.00001', '1e3', '9999999999.9999', '10000000000', 'NaN', 'Infinity', '2026-13-45', '2026-02-30', '0000-01-01',
  '9999-12-31T23:59:59Z', '2026-12-01T00:00:00+25:00', 'us-east-1', 'zz-nowhere-9', 'global', 'anthropic.claude-x', 'arn:aws:bedrock:::x',
  'plan_first', 'bedrock_only', 'plan_only', 'active', 'inactive', 'deleted', 'stay', 'move', 'true', 'false', 'ABSK-fuzz-bedrock-api-key-0000',
] as const;
const adminValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ADMIN_VALUES) },
  { weight: 2, arbitrary: rawNumber },
  { weight: 3, arbitrary: weirdString },
  { weight: 2, arbitrary: jsonish },
);

/** An admin route of the document with odd ids, query values and bodies; logout only without a token (it would end the fuzzer's session). */
export function adminRoutesProperty(target: FuzzTarget) {
  const ops = target.operations.filter((op) => op.method !== 'HEAD');
  const idValue = fc.oneof(
    fc.constantFrom(target.plan.userId, target.plan.accessKeyId, target.bedrock.userId, target.bedrock.accessKeyId, '1', '999999999999999999', 'claude-opus-5-5'),
    fc.uuid(),
    weirdString.map((s) => s.slice(0, 3_000)),
  );
  const queryValue = fc.oneof(fc.constantFrom(...ADMIN_VALUES, ...RAW_NUMBERS), weirdString.map((s) => s.slice(0, 3_000)));
  return fc.asyncProperty(
    fc.record({
      op: fc.nat(ops.length - 1),
      id: idValue,
      query: fc.array(fc.tuple(fc.nat(20), queryValue), { maxLength: 4 }),
      unknownQuery: fc.option(fc.tuple(weirdString.map((s) => s.slice(0, 50)), queryValue), { freq: 8 }),
      fields: fc.array(fc.tuple(fc.nat(20), adminValue), { maxLength: 5 }),
      extra: fc.option(fc.tuple(fc.string({ maxLength: 10 }), adminValue), { freq: 6 }),
      shape: fc.oneof(
        { weight: 6, arbitrary: fc.constant('fields' as const) },
        { weight: 1, arbitrary: fc.constant('any' as const) },
        { weight: 1, arbitrary: fc.constant('deep' as const) },
        { weight: 1, arbitrary: fc.constant('empty' as const) },
      ),
      any: jsonish,
      depth: fc.integer({ min: 10, max: 5_000 }),
      mangle,
      contentType,
      token: fc.constantFrom('good', 'good', 'good', 'good', 'none', 'junk'),
    }),
    async (c) => {
      const op = ops[c.op]!;
      const path = op.path.replace(/\{[^}]+\}/g, () => encoded(String(c.id)));
      const query = [
        ...c.query.filter(() => op.query.length > 0).map(([i, v]) => `${encoded(op.query[i % op.query.length]!)}=${encoded(v)}`),
        ...(c.unknownQuery ? [`${encoded(c.unknownQuery[0]) || 'x'}=${encoded(c.unknownQuery[1])}`] : []),
      ].join('&');
      const token = op.method === 'POST' && op.path === '/admin/auth/logout' ? 'none' : c.token;
      const headers: Record<string, string> = {};
      if (token === 'good') headers.authorization = `Bearer ${target.adminToken}`;
      if (token === 'junk') headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
      let body: Buffer | undefined;
      if (op.bodyFields !== null || c.shape === 'empty') {
        const fields = op.bodyFields ?? [];
        let text: string;
        if (c.shape === 'fields' && fields.length > 0) {
          const value: Record<string, unknown> = {};
          for (const [i, v] of c.fields) value[fields[i % fields.length]!] = v;
          if (c.extra) value[c.extra[0]] = c.extra[1];
          text = serialize(value);
        } else if (c.shape === 'deep') text = `{"${fields[0] ?? 'a'}":${nested(c.depth, c.depth % 2 ? 'array' : 'object')}}`;
        else if (c.shape === 'empty') text = '';
        else text = serialize(c.any);
        body = applyMangle(text, c.mangle);
        if (c.contentType) headers['content-type'] = c.contentType;
      }
      const sent = { method: op.method, path: `${path}${query ? `?${query}` : ''}`, headers, body };
      checkAdminAnswer(sent, await send(target.url, sent));
      await healthy(target.url);
    },
  );
}

// ── Set-up ─────────────────────────────────────────────────────────────────────────────────────

async function adminJson(url: string, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await send(url, {
    method,
    path,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 300)}`);
  return (res.text ? JSON.parse(res.text) : {}) as Record<string, unknown>;
}

/** Through the admin API: a plan_first key, a bedrock_only key with a Bedrock key, and the OpenAPI document's operations. */
export async function prepareTarget(url: string, adminToken: string): Promise<FuzzTarget> {
  const key = async (name: string, strategy: 'plan_first' | 'bedrock_only'): Promise<FuzzKey> => {
    const user = await adminJson(url, adminToken, 'POST', '/admin/users', { name: `${name}-${Date.now()}` });
    const userId = String(user.id);
    if (strategy !== 'plan_first') await adminJson(url, adminToken, 'PATCH', `/admin/users/${userId}`, { routing_strategy: strategy });
    const issued = await adminJson(url, adminToken, 'POST', `/admin/users/${userId}/access-keys`, {});
    const accessKeyId = String(issued.id);
    if (strategy === 'bedrock_only') {
      await adminJson(url, adminToken, 'PUT', `/admin/access-keys/${accessKeyId}/bedrock-key`, { bedrock_api_key: 'ABSK-fuzz-bedrock-api-key-0000' });
    }
    return { rawKey: String(issued.raw_key), userId, accessKeyId };
  };
  const plan = await key('fuzz-plan', 'plan_first');
  const bedrock = await key('fuzz-bedrock', 'bedrock_only');
  const doc = (await adminJson(url, adminToken, 'GET', '/admin/openapi.json')) as unknown as OpenApiDocument;
  return { url, adminToken, plan, bedrock, operations: adminOperations(doc) };
}

/** The env the server needs for the fakes (test/fakes): Anthropic and Bedrock on loopback. */
export const fuzzServerEnv = (anthropicUrl: string, bedrockUrl: string) => ({ PLAN_API_URL: anthropicUrl, BEDROCK_ENDPOINT: bedrockUrl, BEDROCK_REGION: 'us-east-1' });
