import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEDROCK_MARK } from '../../src/bedrock/thinking-provenance.ts';
import { errorReply, type FakeAnthropic } from '../fakes/anthropic.ts';
import { fakeSignature, messageToEvents, textMessage, thinkingToolUseMessage, type AnthropicMessage } from '../fakes/anthropic-messages.ts';
import type { BedrockMode } from '../../src/bedrock/upstream.ts';
import { streamOperation, thinkingToolTurn, type FakeBedrock, type RecordedBedrockRequest } from '../fakes/bedrock.ts';
import { bedrockSignature, mintedBy, signaturesIn } from '../fakes/thinking-rules.ts';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';

// A Claude Code-like session in a tool loop with thinking, whose turns move Anthropic → Bedrock →
// Anthropic → Bedrock. Both fakes refuse thinking they did not sign and, with `enabled` thinking, an
// answered assistant turn that does not open with thinking. Every turn must succeed with exactly
// one request to the upstream that serves it (the SDK does not retry: maxRetries 0).

type Param = Anthropic.MessageParam;


/** The thinking setting Bedrock received, wherever the mode carries it. */
function bedrockThinking(mode: BedrockMode, received: RecordedBedrockRequest): unknown {
  const json = received.json as { thinking?: unknown; additionalModelRequestFields?: { thinking?: unknown } };
  return mode === 'converse' ? json.additionalModelRequestFields?.thinking : json.thinking;
}

const toolResult = (id: string, text: string): Param => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: text }] });

describe.each(['invoke', 'converse', 'messages'] as const)('a session that switches provider mid tool loop, BEDROCK_API=%s', (mode) => {
  let stack: FallbackStack;
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let client: Anthropic;

  beforeAll(async () => {
    stack = await startFallbackStack({ BEDROCK_API: mode });
    ({ anthropic, bedrock } = stack);
    client = new Anthropic({ baseURL: stack.baseUrl, apiKey: 'sk-ant-api03-dev', maxRetries: 0 });
  });
  afterAll(() => stack?.close());

  it.each(['enabled', 'adaptive'] as const)('thinking %s: every turn is served by one upstream request, each sees only its own signatures', async (thinkingType) => {
    const thinking = (thinkingType === 'enabled' ? { type: 'enabled', budget_tokens: 2000 } : { type: 'adaptive' }) as Anthropic.ThinkingConfigParam;
    const send = (messages: Param[]): Promise<AnthropicMessage> =>
      client.messages.stream({ model: 'claude-opus-5-5', max_tokens: 4000, thinking, messages }).finalMessage() as unknown as Promise<AnthropicMessage>;
    const counts = () => ({ anthropic: anthropic.requests.length, bedrock: bedrock.requests.length });
    const history: Param[] = [{ role: 'user', content: 'Read a.txt, then b.txt.' }];

    // Turn 1, Anthropic: thinking, text, a tool call.
    let before = counts();
    anthropic.reply({ kind: 'stream', events: messageToEvents(thinkingToolUseMessage({ tool: { id: 'toolu_a1', input: { file_path: '/p/a.txt' } } })) });
    const turn1 = await send(history);
    expect(counts()).toEqual({ anthropic: before.anthropic + 1, bedrock: before.bedrock });
    expect(mintedBy((turn1.content[0] as { signature: string }).signature)).toBe('anthropic');
    history.push({ role: 'assistant', content: turn1.content as Param['content'] }, toolResult('toolu_a1', 'contents of a'));

    // Turn 2: the Plan limit hits; Bedrock serves the request that answers Anthropic's tool call.
    before = counts();
    const bedrockToolId = mode === 'converse' ? 'tooluse_b2' : 'toolu_b2';
    anthropic.reply(errorReply(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit'));
    bedrock.reply(streamOperation(mode), thinkingToolTurn(mode, { toolId: bedrockToolId, signature: bedrockSignature('turn2'), filePath: '/p/b.txt', thinking: 'Bedrock thinks.' }));
    const turn2 = await send(history);
    expect(counts()).toEqual({ anthropic: before.anthropic + 1, bedrock: before.bedrock + 1 });
    const toBedrock = bedrock.requests.at(-1)!;
    expect(signaturesIn(toBedrock.json)).toEqual([]); // Anthropic's signature never reaches Bedrock
    expect(JSON.stringify(toBedrock.json)).toContain('toolu_a1');
    // The answered turn lost its opening thinking block: thinking is off for this one request.
    expect(bedrockThinking(mode, toBedrock)).toBeUndefined();
    const bedrockThinkingBlock = turn2.content[0] as { type: string; signature: string };
    expect(bedrockThinkingBlock).toMatchObject({ type: 'thinking', signature: BEDROCK_MARK + bedrockSignature('turn2') });
    expect(turn2.content.at(-1)).toMatchObject({ type: 'tool_use', id: bedrockToolId });
    history.push({ role: 'assistant', content: turn2.content as Param['content'] }, toolResult(bedrockToolId, 'contents of b'));

    // Turn 3: the limit is gone; Anthropic serves the request that answers Bedrock's tool call.
    before = counts();
    anthropic.reply({ kind: 'stream', events: messageToEvents(textMessage({ text: 'a and b read.' })) });
    const turn3 = await send(history);
    expect(counts()).toEqual({ anthropic: before.anthropic + 1, bedrock: before.bedrock });
    const toAnthropic = anthropic.requests.at(-1)!;
    expect(toAnthropic.body.includes(BEDROCK_MARK)).toBe(false);
    expect(signaturesIn(toAnthropic.json).map(mintedBy)).toEqual(['anthropic']); // turn 1's own
    expect((toAnthropic.json as { thinking?: unknown }).thinking).toBeUndefined();
    expect(turn3.content).toEqual([expect.objectContaining({ type: 'text', text: 'a and b read.' })]);
    history.push({ role: 'assistant', content: turn3.content as Param['content'] }, { role: 'user', content: 'Thanks. Now c.txt?' });

    // Turn 4: a new user turn on Anthropic keeps thinking on; Bedrock's blocks still stay away.
    before = counts();
    anthropic.reply({ kind: 'stream', events: messageToEvents(thinkingToolUseMessage({ tool: { id: 'toolu_a4', input: { file_path: '/p/c.txt' } } })) });
    const turn4 = await send(history);
    expect(counts()).toEqual({ anthropic: before.anthropic + 1, bedrock: before.bedrock });
    expect((anthropic.requests.at(-1)!.json as { thinking?: unknown }).thinking).toEqual(thinking);
    history.push({ role: 'assistant', content: turn4.content as Param['content'] }, toolResult('toolu_a4', 'contents of c'));

    // Turn 5: back on Bedrock, which gets its own turn-2 signature back, unmarked.
    before = counts();
    anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    bedrock.reply(streamOperation(mode), thinkingToolTurn(mode, { toolId: mode === 'converse' ? 'tooluse_b5' : 'toolu_b5', signature: bedrockSignature('turn5'), filePath: '/p/b.txt' }));
    await send(history);
    expect(counts()).toEqual({ anthropic: before.anthropic + 1, bedrock: before.bedrock + 1 });
    expect(signaturesIn(bedrock.requests.at(-1)!.json)).toEqual([bedrockSignature('turn2')]);
  });

  it("a history with no Bedrock blocks goes to Anthropic as the client's exact bytes", async () => {
    // A tool loop whose thinking Anthropic signed, with the client's own spacing: nothing to change.
    const history = [
      { role: 'user', content: 'read a' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: fakeSignature('own') }, { type: 'tool_use', id: 'toolu_x', name: 'Read', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'a' }] },
    ];
    const body = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 100, thinking: { type: 'enabled', budget_tokens: 50 }, messages: history }, null, 1);
    const before = anthropic.requests.length;
    const res = await request(`${client.baseURL}/v1/messages`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-dev' } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(anthropic.requests[before]!.body.toString()).toBe(body);
  });
});
