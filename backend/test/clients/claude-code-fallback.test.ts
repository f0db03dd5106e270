import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { buildMessage, messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { converseTextFrames, startFakeBedrock, type FakeBedrock, type FakeBedrockReply } from '../fakes/bedrock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { ensureClaudeCode, runClaude } from '../support/claude-code.ts';

// Claude Code pointed at the proxy while Anthropic answers nothing but 429: every turn, tool round
// trips included, is served by the fake Bedrock, and Claude Code prints Bedrock's answer.

let claude: string;
let open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  claude = await ensureClaudeCode();
});
afterEach(async () => {
  for (const thing of open.reverse()) await thing.close();
  open = [];
});

async function setup(mode: 'invoke' | 'converse'): Promise<{ anthropic: FakeAnthropic; bedrock: FakeBedrock; proxy: TestApp; rawKey: string }> {
  const anthropic = await startFakeAnthropic();
  const bedrock = await startFakeBedrock();
  const proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_API: mode, BEDROCK_REGION: 'us-east-1' });
  open.push(anthropic, bedrock, proxy);
  // Anthropic is rate limiting this developer for the whole session.
  anthropic.reply(...Array.from({ length: 20 }, () => errorReply(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '30' })));
  const key = await proxy.createKey();
  const res = await request(`${proxy.url}/admin/access-keys/${key.accessKeyId}/bedrock-key`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await proxy.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bedrock_api_key: 'ABSK-claude-code-fallback-test-key' }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.arrayBuffer();
  return { anthropic, bedrock, proxy, rawKey: key.rawKey };
}

function claudeVia(baseUrl: string, args: string[], cwd: string) {
  // Nothing but the proxy may be reached: port 9 refuses any other traffic.
  return runClaude(claude, { args, cwd, env: { ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: 'sk-ant-api03-developer' }, trapProxy: 'http://127.0.0.1:9' });
}

/** Bedrock's answer asking to read a file, in the mode's wire form. */
function readToolReply(mode: 'invoke' | 'converse', filePath: string): FakeBedrockReply {
  if (mode === 'converse') {
    return {
      frames: [
        { event: 'messageStart', payload: { role: 'assistant' } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Let me read it.' } } },
        { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
        { event: 'contentBlockStart', payload: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_bdrk_read_01', name: 'Read' } } } },
        { event: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { toolUse: { input: JSON.stringify({ file_path: filePath }) } } } },
        { event: 'contentBlockStop', payload: { contentBlockIndex: 1 } },
        { event: 'messageStop', payload: { stopReason: 'tool_use' } },
        { event: 'metadata', payload: { usage: { inputTokens: 30, outputTokens: 20, totalTokens: 50 }, metrics: { latencyMs: 10 } } },
      ],
    };
  }
  const message = buildMessage({
    content: [
      { type: 'text', text: 'Let me read it.' },
      { type: 'tool_use', id: 'toolu_bdrk_read_01', name: 'Read', input: { file_path: filePath } },
    ],
    stop_reason: 'tool_use',
  });
  return { frames: messageToEvents(message).map((e) => ({ chunk: e.data as Record<string, unknown> })) };
}

function textReply(mode: 'invoke' | 'converse', text: string): FakeBedrockReply {
  if (mode === 'converse') return { frames: converseTextFrames(text) };
  return { frames: messageToEvents(textMessage({ text })).map((e) => ({ chunk: e.data as Record<string, unknown> })) };
}

const streamOp = (mode: 'invoke' | 'converse') => (mode === 'invoke' ? 'invoke-with-response-stream' : 'converse-stream');

describe.each(['invoke', 'converse'] as const)('Claude Code while Anthropic rate-limits, BEDROCK_API=%s', (mode) => {
  it('prints the answer Bedrock served', async () => {
    const { bedrock, proxy, rawKey } = await setup(mode);
    bedrock.reply(streamOp(mode), textReply(mode, 'Served by Amazon Bedrock.'));
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-cwd-'));
    const run = await claudeVia(`${proxy.url}/ak/${rawKey}`, ['-p', 'say hi'], cwd);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Served by Amazon Bedrock.');
    expect(run.code).toBe(0);
    expect(bedrock.requests.at(-1)!.headers.authorization).toBe('Bearer ABSK-claude-code-fallback-test-key');
  });

  it('runs a tool round trip on Bedrock: the tool result goes back and the final answer prints', async () => {
    const { bedrock, proxy, rawKey } = await setup(mode);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-cwd-'));
    const file = path.join(cwd, 'hello.txt');
    fs.writeFileSync(file, 'the secret word is pineapple\n');
    bedrock.reply(streamOp(mode), readToolReply(mode, file), textReply(mode, 'The file says the secret word is pineapple.'));

    const run = await claudeVia(`${proxy.url}/ak/${rawKey}`, ['-p', 'What does hello.txt say?', '--allowedTools', 'Read'], cwd);
    expect(run.stdout.trim()).toBe('The file says the secret word is pineapple.');
    expect(run.code).toBe(0);

    // Turn 2 carried the tool result, with the tool id Bedrock chose, back to Bedrock.
    const turn2 = JSON.stringify(bedrock.requests.at(-1)!.json);
    expect(turn2).toContain(mode === 'invoke' ? 'toolu_bdrk_read_01' : 'tooluse_bdrk_read_01');
    expect(turn2).toContain('pineapple');
  });
});
