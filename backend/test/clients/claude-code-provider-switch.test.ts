import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEDROCK_MARK } from '../../src/bedrock/thinking-provenance.ts';
import { errorReply, type RecordedRequest } from '../fakes/anthropic.ts';
import { fakeSignature, messageToEvents, textMessage, thinkingToolUseMessage } from '../fakes/anthropic-messages.ts';
import { streamOperation, thinkingToolTurn } from '../fakes/bedrock.ts';
import { bedrockSignature, mintedBy, signaturesIn } from '../fakes/thinking-rules.ts';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';
import { ensureClaudeCode, runClaude, type ClaudeRun, type RunClaudeOptions } from '../support/claude-code.ts';

// The real Claude Code CLI, offline, against the proxy and both fakes:
// - one `-p` session whose tool loop moves Anthropic → Bedrock → Anthropic, with thinking signed by
//   each provider (both fakes refuse a signature the other minted);
// - both upstreams failing after keep-alive pings, with the CLI's own retries on;
// - the gateway endpoints the CLI calls besides messages (`claude doctor`'s /api/hello, model discovery).


let claude: string;
// A local "HTTP proxy" that refuses everything: any traffic Claude Code sends anywhere but the proxy lands here.
let trap: net.Server;
let trapPort: number;
let strayConnections = 0;

beforeAll(async () => {
  claude = await ensureClaudeCode();
  trap = net.createServer((socket) => {
    strayConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as net.AddressInfo).port;
});
afterAll(() => {
  trap?.close();
});

function claudeVia(baseUrl: string, options: Omit<RunClaudeOptions, 'env' | 'trapProxy'> & { env?: Record<string, string> }): Promise<ClaudeRun> {
  return runClaude(claude, {
    ...options,
    env: { ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: 'sk-ant-api03-developer', ...options.env },
    trapProxy: `http://127.0.0.1:${trapPort}`,
  });
}


const messagesPosts = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages'));

describe.each(['invoke', 'converse', 'messages'] as const)('Claude Code in one session that moves Anthropic → Bedrock → Anthropic, BEDROCK_API=%s', (mode) => {
  let stack: FallbackStack | undefined;
  beforeAll(async () => {
    // No session stickiness: the session comes back to Anthropic on the next turn, as it would
    // after an idle pause (README, "Plan window"); this test is about the history crossing over.
    stack = await startFallbackStack({ BEDROCK_API: mode, SESSION_STICKY_IDLE: '0' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves every turn with one upstream request, each provider seeing only its own thinking', async () => {
    const { anthropic, bedrock, proxy, baseUrl } = stack!;
    const strayBefore = strayConnections;
    const logsBefore = proxy.logs.length;
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-cwd-'));
    const a = path.join(cwd, 'a.txt');
    const b = path.join(cwd, 'b.txt');
    fs.writeFileSync(a, 'alpha file: the first word is aardvark\n');
    fs.writeFileSync(b, 'bravo file: the second word is bumblebee\n');
    const anthropicSignature = fakeSignature('claude-code-turn1');
    const bedrockToolId = mode === 'converse' ? 'tooluse_bdrk_read_b' : 'toolu_bdrk_read_b';

    anthropic.reply(
      // Turn 1: Anthropic thinks, says something and asks for a.txt.
      { kind: 'stream', events: messageToEvents(thinkingToolUseMessage({ signature: anthropicSignature, text: 'Reading a.txt first.', tool: { id: 'toolu_anth_read_a', input: { file_path: a } } })) },
      // Turn 2: the Plan throttles (a passing throttle, not a usage window): Bedrock serves the turn.
      errorReply(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '30' }),
      // Turn 3: Anthropic is back and answers Bedrock's tool call.
      { kind: 'stream', events: messageToEvents(textMessage({ text: 'a.txt says aardvark and b.txt says bumblebee.' }), { textChunks: 3 }) },
    );
    bedrock.reply(streamOperation(mode), thinkingToolTurn(mode, { toolId: bedrockToolId, signature: bedrockSignature('claude-code-turn2'), filePath: b, thinking: 'Bedrock thinks: now b.txt.' }));

    const run = await claudeVia(baseUrl, { args: ['-p', 'Read a.txt, then b.txt, and tell me the two words.', '--allowedTools', 'Read'], cwd });
    fs.rmSync(cwd, { recursive: true, force: true });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('a.txt says aardvark and b.txt says bumblebee.');
    expect(run.code).toBe(0);

    // One upstream request per turn: a hidden client retry would show up as an extra request.
    expect(messagesPosts(anthropic.requests)).toHaveLength(3);
    expect(anthropic.requests).toHaveLength(3);
    expect(bedrock.requests).toHaveLength(1);
    expect(bedrock.requests[0]!.operation).toBe(streamOperation(mode));
    expect(proxy.logs.slice(logsBefore).filter((l) => l.msg === 'request').map((l) => [l.provider, l.status])).toEqual([
      ['plan', 200],
      ['bedrock', 200],
      ['plan', 200],
    ]);

    // Bedrock got turn 1's tool result and none of Anthropic's signatures.
    const toBedrock = bedrock.requests[0]!;
    expect(signaturesIn(toBedrock.json).filter((s) => mintedBy(s) !== 'bedrock')).toEqual([]);
    expect(toBedrock.body.toString()).not.toContain(anthropicSignature);
    expect(JSON.stringify(toBedrock.json)).toContain('toolu_anth_read_a');
    expect(JSON.stringify(toBedrock.json)).toContain('aardvark');

    // Anthropic's turn 3 got Bedrock's tool result, none of Bedrock's thinking and no proxy marker.
    const turn3 = anthropic.requests[2]!;
    expect(turn3.body.toString()).not.toContain(BEDROCK_MARK);
    expect(signaturesIn(turn3.json).map(mintedBy)).toEqual(['anthropic']);
    const turn3Text = JSON.stringify(turn3.json);
    expect(turn3Text).toContain(bedrockToolId);
    expect(turn3Text).toContain('bumblebee');
    expect(strayConnections - strayBefore).toBe(0);
  });
});

describe('Claude Code, with its own retries, when both upstreams fail after keep-alive pings', () => {
  let stack: FallbackStack | undefined;
  beforeAll(async () => {
    stack = await startFallbackStack({ BEDROCK_API: 'invoke', STREAM_PING_INTERVAL: '0.2', PLAN_FIRST_BYTE_TIMEOUT: '1' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('prints one error and stops: one request to each upstream, the non-streaming re-send answered from memory', async () => {
    const { anthropic, bedrock, proxy, baseUrl } = stack!;
    const strayBefore = strayConnections;
    const logsBefore = proxy.logs.length;
    anthropic.reply({ kind: 'hang' });
    bedrock.reply('invoke-with-response-stream', { error: { name: 'ThrottlingException', message: 'Too many tokens per day, please wait before trying again.' } });

    const run = await claudeVia(baseUrl, { args: ['-p', 'say hi'], unsetEnv: ['CLAUDE_CODE_MAX_RETRIES'] });
    const seen = {
      anthropic: anthropic.requests.map((r) => `${r.method} ${r.url} stream=${String((r.json as { stream?: unknown } | undefined)?.stream)}`),
      bedrock: bedrock.requests.map((r) => `${r.operation}`),
      run,
    };
    expect(run.code, JSON.stringify(seen)).toBe(1);
    expect(anthropic.requests, JSON.stringify(seen)).toHaveLength(1);
    expect(bedrock.requests, JSON.stringify(seen)).toHaveLength(1);
    expect(run.stdout + run.stderr).toContain('Too many tokens per day, please wait before trying again.');
    // What the proxy answered: the stream (pings, then the SSE error after both upstreams failed) and
    // the CLI's one non-streaming re-send, answered at once from memory without an upstream call.
    const answered = proxy.logs.slice(logsBefore).filter((l) => l.msg === 'request');
    expect(answered.map((l) => ({ stream: l.stream, status: l.status, code: l.code }))).toEqual([
      { stream: true, status: 429, code: 'BEDROCK_THROTTLED' },
      { stream: false, status: 429, code: 'BEDROCK_THROTTLED' },
    ]);
    expect(strayConnections - strayBefore).toBe(0);
  });
});

describe('Claude Code gateway endpoints', () => {
  let stack: FallbackStack | undefined;
  beforeAll(async () => {
    stack = await startFallbackStack({ BEDROCK_API: 'invoke' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('`claude doctor` finds the proxy reachable: /api/hello answers 200', async () => {
    const { anthropic, proxy, baseUrl } = stack!;
    // doctor needs a TTY: `script` gives it one. Its sign-in check goes to the trap and fails there.
    const run = await runClaude('/usr/bin/script', {
      args: ['-qfec', `${claude} doctor`, '/dev/null'],
      env: { ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: 'sk-ant-api03-developer' },
      trapProxy: `http://127.0.0.1:${trapPort}`,
      unsetEnv: ['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'],
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/API \(custom host\): answered HTTP 200\b/);
    expect(run.stdout).not.toMatch(/API \(custom host\)[^\n]*404/);
    expect(anthropic.requests).toHaveLength(0);
    expect(proxy.logText()).not.toContain('PROXY_');
  });

  it('model discovery: a -p run fetches the key\'s models from the proxy and caches them', async () => {
    const { anthropic, proxy, baseUrl } = stack!;
    const strayBefore = strayConnections;
    const listed = await request(`${baseUrl}/v1/models`);
    expect(listed.statusCode).toBe(200);
    const ids = ((await listed.body.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids.length).toBeGreaterThan(0);

    anthropic.reply({ kind: 'stream', events: messageToEvents(textMessage({ text: 'Hi after discovery.' })) });
    const logsBefore = proxy.logs.length;
    let cached: { baseUrl?: string; models?: { id: string }[] } | undefined;
    const run = await claudeVia(baseUrl, {
      args: ['-p', 'say hi'],
      env: { CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1' },
      inspectHome: (home) => {
        const file = path.join(home, '.claude/cache/gateway-models.json');
        if (fs.existsSync(file)) cached = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof cached;
      },
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Hi after discovery.');
    expect(run.code).toBe(0);

    const gateway = proxy.logs.slice(logsBefore).filter((l) => l.msg === 'gateway request');
    expect(gateway).toEqual([expect.objectContaining({ route: '/v1/models', status: 200 })]);
    expect(cached?.models?.map((m) => m.id)).toEqual(ids);
    expect(messagesPosts(anthropic.requests).length).toBeGreaterThan(0);
    expect(strayConnections - strayBefore).toBe(0);
  });
});
