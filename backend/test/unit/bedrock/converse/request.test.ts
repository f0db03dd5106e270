import { describe, expect, it } from 'vitest';
import type { AnthropicContentBlock, AnthropicRequest } from '../../../../src/anthropic/wire.ts';
import { parseBetaHeader } from '../../../../src/bedrock/betas.ts';
import { buildConverseRequest } from '../../../../src/bedrock/converse/request.ts';
import { BedrockTranslationError } from '../../../../src/bedrock/errors.ts';
import { historyFor, markBedrock } from '../../../../src/bedrock/thinking-provenance.ts';
import { converseRuleViolations, converseWireBody, jsonView } from '../../../fakes/bedrock.ts';
import { bedrockSignature } from '../../../fakes/thinking-rules.ts';
import { readFixture } from '../fixtures.ts';

const turn1 = readFixture<AnthropicRequest>('claude-code/claude-code-request.json');
const turn1Headers = readFixture<{ headers: Record<string, string> }>('claude-code/claude-code-request-headers.json').headers;
const turn2 = readFixture<{ headers: Record<string, string>; body: AnthropicRequest }>('claude-code/claude-code-request-turn2.json');
const bedrockCapture = readFixture<{ body: AnthropicRequest }>('bedrock/claude-code-bedrock-invoke-request.json');

const MODEL_ID = 'us.anthropic.claude-opus-5-5';
const build = (request: AnthropicRequest, options: Partial<Parameters<typeof buildConverseRequest>[1]> = {}) =>
  buildConverseRequest(request, { modelId: MODEL_ID, ...options });
const base: AnthropicRequest = { model: 'claude-opus-5-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] };
/** A request whose first user turn carries `blocks`. */
const withBlocks = (...blocks: AnthropicContentBlock[]): AnthropicRequest => ({ ...base, messages: [{ role: 'user', content: blocks }] });
const PNG = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
const PDF = Buffer.from('%PDF-1.7 fake').toString('base64');

describe("buildConverseRequest on Claude Code's captured requests", () => {
  const text = (block: unknown) => (block as { text: string }).text;

  it('translates turn 1: system with cache points, the system-role message, tools, thinking and effort', () => {
    const { input, notes, droppedBetas } = build(turn1, { betas: parseBetaHeader(turn1Headers['anthropic-beta']) });
    const system = turn1.system as unknown as Array<{ text: string }>;
    expect(input.system).toEqual([
      { text: system[0]!.text },
      { text: system[1]!.text },
      { cachePoint: { type: 'default' } },
      { text: system[2]!.text },
      { cachePoint: { type: 'default' } },
    ]);
    // The system-role message is folded into the user turn before it, its cache point kept.
    expect(input.messages).toEqual([
      {
        role: 'user',
        content: [
          ...(turn1.messages[0]!.content as unknown as Array<{ text: string }>).map((b) => ({ text: b.text })),
          { text: text((turn1.messages[1]!.content as unknown[])[0]) },
          { cachePoint: { type: 'default' } },
        ],
      },
    ]);
    expect(input.toolConfig?.tools).toHaveLength(12);
    expect(input.toolConfig?.tools?.[4]).toEqual({ toolSpec: { name: 'Read', description: turn1.tools![4]!.description, inputSchema: { json: turn1.tools![4]!.input_schema } } });
    expect(input.toolConfig?.toolChoice).toBeUndefined();
    expect(input.inferenceConfig).toEqual({ maxTokens: 128000 });
    expect(input.additionalModelRequestFields).toEqual({
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort: 'medium' },
      anthropic_beta: bedrockCapture.body.anthropic_beta,
    });
    expect(input.additionalModelResponseFieldPaths).toBeUndefined();
    expect(notes).toEqual([
      { path: 'metadata', action: 'dropped' },
      { path: 'context_management', action: 'dropped' },
      { path: 'messages[1].output_config', action: 'dropped' },
      { path: 'messages[1].role', action: 'approximated' },
      { path: 'tools[10].defer_loading', action: 'dropped' },
    ]);
    expect(droppedBetas).toContain('claude-code-20250219');
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });

  it('translates turn 2 (answered by Bedrock): its own thinking signature, unmarked, text and tool use, then the tool result with its cache point', () => {
    // The assistant turn as Claude Code echoes a Bedrock answer: the signature marked by the proxy.
    const fromBedrock = structuredClone(turn2.body);
    const thinking = (fromBedrock.messages[2]!.content as AnthropicContentBlock[])[0]!;
    thinking.signature = markBedrock(bedrockSignature('turn2'));
    const { input } = build(historyFor(fromBedrock, 'bedrock').request);
    expect(input.messages?.[0]?.content?.at(-1)).toEqual({ text: turn2.body.messages[1]!.content as string });
    expect(input.messages?.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { reasoningContent: { reasoningText: { text: 'I should read the file.', signature: bedrockSignature('turn2') } } },
          { text: 'Reading it.' },
          { toolUse: { toolUseId: 'toolu_fake3', name: 'Read', input: { file_path: '/home/user/project/hello.txt' } } },
        ],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_fake3', content: [{ text: '1\tHello from the file\n2\t' }] } }, { cachePoint: { type: 'default' } }] },
    ]);
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });

  it.each<[string, AnthropicRequest['messages'], unknown[]]>([
    [
      'after an assistant turn: at the end of the next user turn, after its tool results',
      [
        { role: 'user', content: 'read it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }] },
        { role: 'system', content: 'The date changed.' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'text' }] },
      ],
      [
        { role: 'user', content: [{ text: 'read it' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'toolu_1', name: 'Read', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: 'text' }] } }, { text: 'The date changed.' }] },
      ],
    ],
    [
      'first and last: a user turn of its own',
      [
        { role: 'system', content: 'Environment' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'system', content: 'Reminder' },
      ],
      [
        { role: 'user', content: [{ text: 'hi' }, { text: 'Environment' }] },
        { role: 'assistant', content: [{ text: 'hello' }] },
        { role: 'user', content: [{ text: 'Reminder' }] },
      ],
    ],
  ])('folds a system-role message %s', (_name, messages, expected) => {
    const { input, notes } = build({ model: 'claude-opus-5-5', max_tokens: 10, messages, tools: [{ name: 'Read', input_schema: { type: 'object' } }] });
    expect(input.messages).toEqual(expected);
    expect(notes).toContainEqual({ path: `messages[${messages.findIndex((m) => m.role === 'system')}].role`, action: 'approximated' });
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });

  it('does not modify the request it was given', () => {
    const request = structuredClone(turn2.body);
    build(request, { betas: ['interleaved-thinking-2025-05-14'] });
    expect(request).toEqual(turn2.body);
  });
});

describe('buildConverseRequest content blocks', () => {
  it.each<[string, AnthropicContentBlock, unknown[]]>([
    ['text', { type: 'text', text: 'hello' }, [{ text: 'hello' }]],
    ['text with a 1h breakpoint', { type: 'text', text: 'hello', cache_control: { type: 'ephemeral', ttl: '1h' } }, [{ text: 'hello' }, { cachePoint: { type: 'default', ttl: '1h' } }]],
    ['base64 image', { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, [{ image: { format: 'png', source: { bytes: PNG } } }]],
    [
      'base64 PDF with title, context and citations',
      { type: 'document', title: 'Q3 report: final.pdf', context: 'finance', citations: { enabled: true }, source: { type: 'base64', media_type: 'application/pdf', data: PDF } },
      [{ document: { name: 'Q3 report final pdf', format: 'pdf', source: { bytes: PDF }, context: 'finance', citations: { enabled: true } } }],
    ],
    ['plain-text document', { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } }, [{ document: { name: 'document-1', format: 'txt', source: { text: 'notes' } } }]],
    [
      'content document',
      { type: 'document', title: 'a', source: { type: 'content', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] } },
      [{ document: { name: 'a', format: 'txt', source: { content: [{ text: 'one' }, { text: 'two' }] } } }],
    ],
    [
      'search result',
      { type: 'search_result', source: 'https://docs.example/x', title: 'X', content: [{ type: 'text', text: 'fact' }], citations: { enabled: true } },
      [{ searchResult: { source: 'https://docs.example/x', title: 'X', content: [{ text: 'fact' }], citations: { enabled: true } } }],
    ],
  ])('%s', (_name, block, expected) => {
    const { input } = build(withBlocks(block, { type: 'text', text: 'tail' }));
    expect(jsonView(input.messages)).toEqual([{ role: 'user', content: [...expected, { text: 'tail' }] }]);
  });

  it('keeps thinking, signature-only thinking and redacted thinking in assistant turns', () => {
    const redacted = Buffer.from('opaque-encrypted-thinking').toString('base64');
    const { input } = build({
      ...base,
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'step', signature: 'sig-1' },
            { type: 'thinking', thinking: '', signature: 'sig-omitted' },
            { type: 'redacted_thinking', data: redacted },
            { type: 'text', text: 'answer' },
          ],
        },
        { role: 'user', content: 'next' },
      ],
    });
    expect(jsonView(input.messages?.[1])).toEqual({
      role: 'assistant',
      content: [
        { reasoningContent: { reasoningText: { text: 'step', signature: 'sig-1' } } },
        { reasoningContent: { reasoningText: { text: '', signature: 'sig-omitted' } } },
        { reasoningContent: { redactedContent: redacted } },
        { text: 'answer' },
      ],
    });
  });

  const toolTurn = (result: AnthropicContentBlock): AnthropicRequest => ({
    ...base,
    tools: [{ name: 'Read', input_schema: { type: 'object' } }],
    messages: [
      { role: 'user', content: 'read it' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Read', input: { path: 'a' } }] },
      { role: 'user', content: [result] },
    ],
  });

  it.each<[string, AnthropicContentBlock, unknown, string[]]>([
    ['string content', { type: 'tool_result', tool_use_id: 'toolu_01', content: 'ok' }, { toolUseId: 'toolu_01', content: [{ text: 'ok' }] }, []],
    ['an error', { type: 'tool_result', tool_use_id: 'toolu_01', content: 'denied', is_error: true }, { toolUseId: 'toolu_01', content: [{ text: 'denied' }], status: 'error' }, []],
    [
      'text and image blocks',
      { type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'see' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } }] },
      { toolUseId: 'toolu_01', content: [{ text: 'see' }, { image: { format: 'jpeg', source: { bytes: PNG } } }] },
      [],
    ],
    [
      "a PDF (as Claude Code's Read tool returns it)",
      { type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF } }] },
      { toolUseId: 'toolu_01', content: [{ document: { name: 'document-1', format: 'pdf', source: { bytes: PDF } } }] },
      [],
    ],
    ['no content', { type: 'tool_result', tool_use_id: 'toolu_01' }, { toolUseId: 'toolu_01', content: [{ text: '(no content)' }] }, ['messages[2].content[0].content']],
    ['blank content', { type: 'tool_result', tool_use_id: 'toolu_01', content: '  ', is_error: true }, { toolUseId: 'toolu_01', content: [{ text: '(no content)' }], status: 'error' }, ['messages[2].content[0].content']],
  ])('tool_result with %s', (_name, result, expected, added) => {
    const { input, notes } = build(toolTurn(result));
    expect(jsonView(input.messages?.[2])).toEqual({ role: 'user', content: [{ toolResult: expected }] });
    expect(notes.filter((n) => n.action === 'added').map((n) => n.path)).toEqual(added);
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });

  it('puts a breakpoint inside a tool result after the whole result', () => {
    const { input } = build(toolTurn({ type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'r', cache_control: { type: 'ephemeral' } }] }));
    expect(input.messages?.[2]?.content?.[1]).toEqual({ cachePoint: { type: 'default' } });
  });

  it.each<[string, AnthropicRequest, string]>([
    ['an image URL', withBlocks({ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }), 'messages[0].content[0].source.type'],
    ['a Files API image', withBlocks({ type: 'image', source: { type: 'file', file_id: 'file_1' } }), 'messages[0].content[0].source.type'],
    ['a BMP image', withBlocks({ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: PNG } }), 'messages[0].content[0].source.media_type'],
    ['a document URL', withBlocks({ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }), 'messages[0].content[0].source.type'],
    ['a Files API document', withBlocks({ type: 'document', source: { type: 'file', file_id: 'file_1' } }), 'messages[0].content[0].source.type'],
    [
      'an image inside document content',
      withBlocks({ type: 'document', source: { type: 'content', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] } }),
      'messages[0].content[0].source.content[0].type',
    ],
    ['a container upload', withBlocks({ type: 'container_upload', file_id: 'file_1' }), 'messages[0].content[0].type'],
    ['an unknown block', withBlocks({ type: 'hologram' }), 'messages[0].content[0].type'],
    [
      'a server tool use',
      { ...base, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }] }] },
      'messages[1].content[0].type',
    ],
    [
      'a web search result',
      { ...base, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] }] }] },
      'messages[1].content[0].type',
    ],
    ['a tool reference in a tool result', withBlocks({ type: 'tool_result', tool_use_id: 't', content: [{ type: 'tool_reference', tool_name: 'Read' }] }), 'messages[0].content[0].content[0].type'],
    ['an Anthropic-defined client tool', { ...base, tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0].type'],
    ['a server tool', { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0].type'],
    ['remote MCP servers', { ...base, mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'm' }] }, 'mcp_servers'],
    ['redacted thinking that is not base64', { ...base, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'not base64!' }] }] }, 'messages[1].content[0].data'],
  ])('rejects %s with a 400 naming %s', (_name, request, field) => {
    let error: unknown;
    try {
      build(request);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BedrockTranslationError);
    expect(error).toMatchObject({ code: 'BEDROCK_UNSUPPORTED', status: 400, anthropicType: 'invalid_request_error', field });
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
  });

  it.each<[string, AnthropicRequest, string]>([
    ['messages missing', { model: 'x' } as AnthropicRequest, 'messages'],
    ['an unknown role', { ...base, messages: [{ role: 'robot' as 'user', content: 'x' }] }, 'messages[0].role'],
    ['a block without type', withBlocks({} as AnthropicContentBlock), 'messages[0].content[0].type'],
    ['a tool without a schema', { ...base, tools: [{ name: 'x' }] }, 'tools[0].input_schema'],
    ['an unknown tool_choice', { ...base, tool_choice: { type: 'sometimes' as 'auto' } }, 'tool_choice.type'],
  ])('rejects a malformed request (%s) naming %s', (_name, request, field) => {
    expect(() => build(request)).toThrow(expect.objectContaining({ code: 'BEDROCK_INVALID_REQUEST', field }));
  });
});

describe('buildConverseRequest conversation shape', () => {
  it('merges consecutive same-role turns and drops blank text and blank turns', () => {
    const { input } = build({
      ...base,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: [{ type: 'text', text: 'b' }, { type: 'text', text: '   ' }] },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'c' },
        { role: 'assistant', content: [{ type: 'text', text: 'd' }] },
      ],
    });
    expect(input.messages).toEqual([
      { role: 'user', content: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] },
      { role: 'assistant', content: [{ text: 'd' }] },
    ]);
  });

  it('places a top-level cache_control after the last cacheable block', () => {
    const { input } = build({ ...base, cache_control: { type: 'ephemeral' } });
    expect(input.messages).toEqual([{ role: 'user', content: [{ text: 'hi' }, { cachePoint: { type: 'default' } }] }]);
  });

  it('maps sampling settings without adding defaults', () => {
    const { input } = build({ ...base, temperature: 0.3, top_p: 0.9, top_k: 40, stop_sequences: ['END'] });
    expect(input.inferenceConfig).toEqual({ maxTokens: 1024, temperature: 0.3, topP: 0.9, stopSequences: ['END'] });
    expect(input.additionalModelRequestFields).toEqual({ top_k: 40 });
    expect(input.additionalModelResponseFieldPaths).toEqual(['/stop_sequence']);
    expect(build(base).input).toEqual({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 1024 } });
  });

  it('keeps document names valid and unique', () => {
    const doc = (title?: string): AnthropicContentBlock => ({ type: 'document', ...(title ? { title } : {}), source: { type: 'text', media_type: 'text/plain', data: 'x' } });
    const { input } = build(withBlocks(doc('a/b'), doc('a b'), doc(), doc('***'), { type: 'text', text: 'q' }));
    const names = input.messages![0]!.content!.filter((b) => b.document).map((b) => b.document!.name);
    expect(names).toEqual(['a b', 'a b-2', 'document-3', 'document-4']);
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });

  it('lists request settings it cannot carry', () => {
    const { notes } = build({
      ...base,
      metadata: { user_id: 'u' },
      service_tier: 'auto',
      speed: 'fast',
      inference_geo: 'us',
      container: 'c',
      diagnostics: {},
      brand_new_field: 1,
      tools: [{ name: 'a', input_schema: { type: 'object' }, defer_loading: true, input_examples: [], eager_input_streaming: true, allowed_callers: [] }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    expect(notes).toEqual([
      { path: 'metadata', action: 'dropped' },
      { path: 'service_tier', action: 'dropped' },
      { path: 'speed', action: 'dropped' },
      { path: 'inference_geo', action: 'dropped' },
      { path: 'container', action: 'dropped' },
      { path: 'diagnostics', action: 'dropped' },
      { path: 'brand_new_field', action: 'dropped' },
      { path: 'tools[0].defer_loading', action: 'dropped' },
      { path: 'tools[0].input_examples', action: 'dropped' },
      { path: 'tools[0].eager_input_streaming', action: 'dropped' },
      { path: 'tools[0].allowed_callers', action: 'dropped' },
      { path: 'tool_choice.disable_parallel_tool_use', action: 'dropped' },
    ]);
  });
});

describe('buildConverseRequest tools', () => {
  const tools = [
    { name: 'Read', description: 'reads', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' as const } },
    { name: 'Write', description: '', input_schema: { type: 'object' }, strict: true },
  ];
  const history: AnthropicRequest['messages'] = [
    { role: 'user', content: 'go' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Read', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'x' }] },
  ];
  const specs = [
    { toolSpec: { name: 'Read', description: 'reads', inputSchema: { json: { type: 'object' } } } },
    { cachePoint: { type: 'default' } },
    { toolSpec: { name: 'Write', inputSchema: { json: { type: 'object' } }, strict: true } },
  ];

  it.each<[string, AnthropicRequest['tool_choice'], unknown]>([
    ['no choice', undefined, { tools: specs }],
    ['auto', { type: 'auto' }, { tools: specs, toolChoice: { auto: {} } }],
    ['any', { type: 'any' }, { tools: specs, toolChoice: { any: {} } }],
    ['one tool', { type: 'tool', name: 'Write' }, { tools: specs, toolChoice: { tool: { name: 'Write' } } }],
    ['none (no tool history: no tools at all)', { type: 'none' }, undefined],
  ])('tool_choice %s', (_name, tool_choice, expected) => {
    expect(build({ ...base, tools, ...(tool_choice ? { tool_choice } : {}) }).input.toolConfig).toEqual(expected);
  });

  it('approximates tool_choice none when the history has tool blocks', () => {
    const { input, notes } = build({ ...base, tools, tool_choice: { type: 'none' }, messages: history });
    expect(input.toolConfig).toEqual({ tools: specs });
    expect(notes).toContainEqual({ path: 'tool_choice', action: 'approximated' });
  });

  it('declares the tools the history uses when the request has none (Claude Code compaction)', () => {
    const { input, notes } = build({ ...base, messages: history });
    expect(input.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'Read', description: expect.any(String), inputSchema: { json: { type: 'object' } } } }],
    });
    expect(notes).toContainEqual({ path: 'tools', action: 'added' });
    expect(converseRuleViolations(converseWireBody(input))).toEqual([]);
  });
});
