/**
 * Anthropic Messages request → Converse / ConverseStream input (docs/upstream-apis.md §3.1).
 *
 * Content that Converse cannot carry is rejected with a 400 `BedrockTranslationError` naming the
 * field (URL and file sources, server tools, Anthropic-defined tools, MCP servers, unknown block
 * types) — never turned into text or silently lost. Request settings with no Converse
 * counterpart (`metadata`, `context_management`, tool extras such as `defer_loading`, …) are left
 * out and listed in `notes`, as are the approximations Converse forces (`tool_choice: none` with
 * tool history, tools declared only so that history can be sent).
 *
 * The output uses the AWS SDK's shapes (`Uint8Array` bytes): pass it to `ConverseCommand` or
 * `ConverseStreamCommand`.
 */

import type {
  CachePointBlock,
  ContentBlock,
  ConverseRequest,
  DocumentBlock,
  DocumentFormat,
  ImageBlock,
  ImageFormat,
  InferenceConfiguration,
  Message,
  SearchResultBlock,
  SystemContentBlock,
  Tool,
  ToolConfiguration,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { AnthropicContentBlock, AnthropicRequest } from '../../anthropic/wire.ts';
import { filterBedrockBetas } from '../betas.ts';
import { placeTopLevelCacheControl } from '../cache-control.ts';
import { BedrockTranslationError } from '../errors.ts';

/** Free JSON as the SDK types it (`__DocumentType`). */
type DocumentType = NonNullable<ConverseRequest['additionalModelRequestFields']>;

export type ConverseInput = Omit<ConverseRequest, 'guardrailConfig'> & { modelId: string };

/** Something the translation changed without failing: counted by the caller, never silent. */
export interface TranslationNote {
  /** Path into the Anthropic request (`metadata`, `tools[10].defer_loading`). */
  path: string;
  action: 'dropped' | 'approximated' | 'added';
}

export interface ConverseRequestOptions {
  /** From `resolveBedrockModel`. */
  modelId: string;
  /** The client's `anthropic-beta` values. */
  betas?: readonly string[];
}

export interface BuiltConverseRequest {
  input: ConverseInput;
  droppedBetas: string[];
  notes: TranslationNote[];
}

/** Request settings Converse has no place for. They change no content the model reads. */
const DROPPED_TOP_LEVEL = ['metadata', 'service_tier', 'context_management', 'container', 'speed', 'inference_geo', 'diagnostics'];
const HANDLED_TOP_LEVEL = new Set([
  'model', 'stream', 'max_tokens', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config',
  'temperature', 'top_p', 'top_k', 'stop_sequences', 'cache_control', 'mcp_servers', ...DROPPED_TOP_LEVEL,
]);
const TOOL_SPEC_FIELDS = new Set(['type', 'name', 'description', 'input_schema', 'strict', 'cache_control']);

const IMAGE_FORMATS: Readonly<Record<string, ImageFormat>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const DOCUMENT_FORMATS: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/markdown': 'md',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

/** Converse wants non-empty tool results; Anthropic allows empty ones. */
const EMPTY_TOOL_RESULT = '(no content)';
const HISTORY_TOOL_DESCRIPTION = 'Declared only because the conversation history uses it; not available now.';

interface Context {
  notes: TranslationNote[];
  documentNames: Set<string>;
  /** Tool names used by `tool_use` blocks in the history, in order of first use. */
  historyToolNames: string[];
  hasToolBlocks: boolean;
}

function unsupported(path: string, message: string): never {
  throw new BedrockTranslationError('BEDROCK_UNSUPPORTED', path, `${path}: ${message}`);
}

function invalid(path: string, message: string): never {
  throw new BedrockTranslationError('BEDROCK_INVALID_REQUEST', path, `${path}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function cachePoint(cacheControl: unknown): { cachePoint: CachePointBlock } {
  const ttl = isObject(cacheControl) ? cacheControl.ttl : undefined;
  return { cachePoint: { type: 'default', ...(ttl === '5m' || ttl === '1h' ? { ttl } : {}) } };
}

function base64Bytes(data: unknown, path: string): Uint8Array {
  if (typeof data !== 'string' || data === '') invalid(path, 'expected base64 data');
  return Buffer.from(data, 'base64');
}

export function buildConverseRequest(request: AnthropicRequest, options: ConverseRequestOptions): BuiltConverseRequest {
  if (!isObject(request)) invalid('body', 'expected a JSON object');
  if (!Array.isArray(request.messages)) invalid('messages', 'Field required');
  const ctx: Context = { notes: [], documentNames: new Set(), historyToolNames: [], hasToolBlocks: false };
  const placed = placeTopLevelCacheControl(request);
  if (!placed.placed) ctx.notes.push({ path: 'cache_control', action: 'dropped' });
  const req = placed.request;

  for (const key of Object.keys(req)) {
    if (DROPPED_TOP_LEVEL.includes(key) || !HANDLED_TOP_LEVEL.has(key)) ctx.notes.push({ path: key, action: 'dropped' });
  }
  if (Array.isArray(req.mcp_servers) && req.mcp_servers.length > 0) {
    unsupported('mcp_servers', 'remote MCP servers are not available on Amazon Bedrock');
  }

  const system = translateSystem(req.system);
  const messages = translateMessages(req, ctx);
  const toolConfig = translateTools(req, ctx);

  const input: ConverseInput = { modelId: options.modelId, messages };
  if (system.length > 0) input.system = system;

  const inference: InferenceConfiguration = {};
  if (typeof req.max_tokens === 'number') inference.maxTokens = req.max_tokens;
  if (typeof req.temperature === 'number') inference.temperature = req.temperature;
  if (typeof req.top_p === 'number') inference.topP = req.top_p;
  const stopSequences = Array.isArray(req.stop_sequences) ? req.stop_sequences.filter((s) => typeof s === 'string') : [];
  if (stopSequences.length > 0) inference.stopSequences = stopSequences;
  if (Object.keys(inference).length > 0) input.inferenceConfig = inference;
  if (toolConfig) input.toolConfig = toolConfig;

  // Fields the Anthropic model reads natively: Converse merges these into its native request.
  const additional: Record<string, DocumentType> = {};
  if (isObject(req.thinking)) additional.thinking = req.thinking as DocumentType;
  if (isObject(req.output_config)) additional.output_config = req.output_config as DocumentType;
  if (typeof req.top_k === 'number') additional.top_k = req.top_k;
  const { betas, dropped } = filterBedrockBetas(options.betas ?? [], { tools: req.tools });
  if (betas.length > 0) additional.anthropic_beta = betas;
  if (Object.keys(additional).length > 0) input.additionalModelRequestFields = additional;
  if (stopSequences.length > 0) input.additionalModelResponseFieldPaths = ['/stop_sequence'];

  return { input, droppedBetas: dropped, notes: ctx.notes };
}

function translateSystem(system: AnthropicRequest['system']): SystemContentBlock[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string') return system.trim() === '' ? [] : [{ text: system }];
  if (!Array.isArray(system)) invalid('system', 'expected a string or an array of text blocks');
  return systemBlocks(system, 'system');
}

/** Text blocks (with their cache breakpoints) for a `system` array or a folded system message. */
function systemBlocks(blocks: readonly AnthropicContentBlock[], path: string): SystemContentBlock[] {
  const out: SystemContentBlock[] = [];
  blocks.forEach((block, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(block) || block.type !== 'text') unsupported(`${p}.type`, 'only text blocks can be system content on Amazon Bedrock Converse');
    if (typeof block.text !== 'string') invalid(`${p}.text`, 'expected a string');
    if (block.text.trim() !== '') out.push({ text: block.text });
    if (block.cache_control && out.length > 0) out.push(cachePoint(block.cache_control));
  });
  return out;
}

/**
 * Converse takes only `user` and `assistant` turns, strictly alternating. Claude Code's
 * mid-conversation `role: "system"` messages are folded, as text, into the user turn before them
 * (or, when an assistant turn precedes them, the end of the next user turn), so they stay near
 * where they stood and tool results still open their turn.
 */
function translateMessages(req: AnthropicRequest, ctx: Context): Message[] {
  const out: Message[] = [];
  let pending: ContentBlock[] = [];
  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (!isObject(message)) invalid(path, 'expected an object');
    const role = message.role;
    if (role !== 'user' && role !== 'assistant' && role !== 'system') invalid(`${path}.role`, `unknown role '${String(role)}'`);
    for (const key of Object.keys(message)) {
      // First-party per-turn settings (`output_config` on a system message) have no Converse place.
      if (key !== 'role' && key !== 'content') ctx.notes.push({ path: `${path}.${key}`, action: 'dropped' });
    }
    const previous = out[out.length - 1];
    if (role === 'system') {
      const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
      if (!Array.isArray(blocks)) invalid(`${path}.content`, 'expected a string or an array of blocks');
      const folded: ContentBlock[] = systemBlocks(blocks, `${path}.content`);
      ctx.notes.push({ path: `${path}.role`, action: 'approximated' });
      if (previous?.role === 'user' && pending.length === 0) previous.content!.push(...folded);
      else pending.push(...folded);
      return;
    }
    const content = translateContent(message.content, `${path}.content`, ctx);
    if (role === 'user' && pending.length > 0) {
      content.push(...pending);
      pending = [];
    }
    if (content.every((block) => block.cachePoint !== undefined)) return; // blank: Converse rejects empty content
    // Converse needs alternating turns; Anthropic merges consecutive same-role turns itself.
    if (previous && previous.role === role) previous.content!.push(...content);
    else out.push({ role, content });
  });
  if (pending.length > 0) {
    const previous = out[out.length - 1];
    if (previous?.role === 'user') previous.content!.push(...pending);
    else out.push({ role: 'user', content: pending });
  }
  return out;
}

function translateContent(content: unknown, path: string, ctx: Context): ContentBlock[] {
  if (typeof content === 'string') return content.trim() === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) invalid(path, 'expected a string or an array of blocks');
  const out: ContentBlock[] = [];
  content.forEach((block: unknown, j) => {
    const p = `${path}[${j}]`;
    if (!isObject(block) || typeof block.type !== 'string') invalid(`${p}.type`, 'Field required');
    const translated = translateBlock(block as AnthropicContentBlock, p, ctx);
    out.push(...translated);
    if (block.cache_control && out.length > 0) out.push(cachePoint(block.cache_control));
  });
  return out;
}

function translateBlock(block: AnthropicContentBlock, p: string, ctx: Context): ContentBlock[] {
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') invalid(`${p}.text`, 'expected a string');
      if (Array.isArray(block.citations) && block.citations.length > 0) ctx.notes.push({ path: `${p}.citations`, action: 'dropped' });
      return block.text.trim() === '' ? [] : [{ text: block.text }];
    case 'image':
      return [{ image: image(block, p) }];
    case 'document':
      return [{ document: document(block, p, ctx) }];
    case 'search_result':
      return [{ searchResult: searchResult(block, p) }];
    case 'tool_use': {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') invalid(p, 'tool_use needs an id and a name');
      ctx.hasToolBlocks = true;
      if (!ctx.historyToolNames.includes(block.name)) ctx.historyToolNames.push(block.name);
      return [{ toolUse: { toolUseId: block.id, name: block.name, input: (block.input ?? {}) as DocumentType } }];
    }
    case 'tool_result':
      ctx.hasToolBlocks = true;
      return toolResult(block, p, ctx);
    case 'thinking': {
      if (typeof block.thinking !== 'string') invalid(`${p}.thinking`, 'expected a string');
      // Signature-only blocks (thinking display "omitted") are kept: the signature must round-trip.
      const signature = typeof block.signature === 'string' && block.signature !== '' ? { signature: block.signature } : {};
      return [{ reasoningContent: { reasoningText: { text: block.thinking, ...signature } } }];
    }
    case 'redacted_thinking': {
      const bytes = base64Bytes(block.data, `${p}.data`);
      if (Buffer.from(bytes).toString('base64') !== block.data) {
        unsupported(`${p}.data`, 'redacted thinking data that is not canonical base64 cannot be carried by Converse');
      }
      return [{ reasoningContent: { redactedContent: bytes } }];
    }
    default:
      return unsupported(`${p}.type`, `'${block.type}' blocks are not available on Amazon Bedrock Converse`);
  }
}

function image(block: AnthropicContentBlock, p: string): ImageBlock {
  const source = block.source;
  if (!isObject(source)) invalid(`${p}.source`, 'Field required');
  if (source.type !== 'base64') {
    unsupported(`${p}.source.type`, `image source '${String(source.type)}' is not available on Amazon Bedrock Converse; send the image as base64`);
  }
  const format = IMAGE_FORMATS[String(source.media_type)];
  if (!format) unsupported(`${p}.source.media_type`, `image type '${String(source.media_type)}' is not available on Amazon Bedrock Converse`);
  return { format, source: { bytes: base64Bytes(source.data, `${p}.source.data`) } };
}

/** Converse document names: letters, digits, single spaces, `-()[]`; unique per request. */
function documentName(title: unknown, ctx: Context): string {
  let base = typeof title === 'string' ? title.replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  if (base === '') base = `document-${ctx.documentNames.size + 1}`;
  let name = base;
  for (let n = 2; ctx.documentNames.has(name); n++) name = `${base}-${n}`;
  ctx.documentNames.add(name);
  return name;
}

function document(block: AnthropicContentBlock, p: string, ctx: Context): DocumentBlock {
  const source = block.source;
  if (!isObject(source)) invalid(`${p}.source`, 'Field required');
  const out: DocumentBlock = { name: documentName(block.title, ctx), source: undefined };
  switch (source.type) {
    case 'base64': {
      const format = DOCUMENT_FORMATS[String(source.media_type)];
      if (!format) unsupported(`${p}.source.media_type`, `document type '${String(source.media_type)}' is not available on Amazon Bedrock Converse`);
      out.format = format;
      out.source = { bytes: base64Bytes(source.data, `${p}.source.data`) };
      break;
    }
    case 'text':
      if (typeof source.data !== 'string') invalid(`${p}.source.data`, 'expected a string');
      out.format = 'txt';
      out.source = { text: source.data };
      break;
    case 'content': {
      const blocks = typeof source.content === 'string' ? [{ type: 'text', text: source.content }] : source.content;
      if (!Array.isArray(blocks)) invalid(`${p}.source.content`, 'expected a string or an array of blocks');
      out.format = 'txt';
      out.source = {
        content: blocks.map((inner: unknown, k) => {
          if (!isObject(inner) || inner.type !== 'text' || typeof inner.text !== 'string') {
            unsupported(`${p}.source.content[${k}].type`, 'only text can be document content on Amazon Bedrock Converse');
          }
          return { text: inner.text };
        }),
      };
      break;
    }
    default:
      unsupported(`${p}.source.type`, `document source '${String(source.type)}' is not available on Amazon Bedrock Converse; send the document inline`);
  }
  if (typeof block.context === 'string' && block.context !== '') out.context = block.context;
  if (isObject(block.citations) && typeof block.citations.enabled === 'boolean') out.citations = { enabled: block.citations.enabled };
  return out;
}

function searchResult(block: AnthropicContentBlock, p: string): SearchResultBlock {
  if (typeof block.source !== 'string' || typeof block.title !== 'string' || !Array.isArray(block.content)) {
    invalid(p, 'search_result needs source, title and content');
  }
  const out: SearchResultBlock = {
    source: block.source,
    title: block.title,
    content: block.content.map((inner: unknown, k) => {
      if (!isObject(inner) || inner.type !== 'text' || typeof inner.text !== 'string') invalid(`${p}.content[${k}]`, 'expected a text block');
      return { text: inner.text };
    }),
  };
  if (isObject(block.citations) && typeof block.citations.enabled === 'boolean') out.citations = { enabled: block.citations.enabled };
  return out;
}

function toolResult(block: AnthropicContentBlock, p: string, ctx: Context): ContentBlock[] {
  if (typeof block.tool_use_id !== 'string') invalid(`${p}.tool_use_id`, 'Field required');
  const items: ToolResultContentBlock[] = [];
  let innerBreakpoint: unknown;
  const content = block.content;
  if (typeof content === 'string') {
    if (content.trim() !== '') items.push({ text: content });
  } else if (Array.isArray(content)) {
    content.forEach((inner: unknown, k) => {
      const q = `${p}.content[${k}]`;
      if (!isObject(inner) || typeof inner.type !== 'string') invalid(`${q}.type`, 'Field required');
      const typed = inner as AnthropicContentBlock;
      if (typed.cache_control) innerBreakpoint = typed.cache_control;
      switch (typed.type) {
        case 'text':
          if (typeof typed.text !== 'string') invalid(`${q}.text`, 'expected a string');
          if (typed.text.trim() !== '') items.push({ text: typed.text });
          break;
        case 'image':
          items.push({ image: image(typed, q) });
          break;
        case 'document':
          items.push({ document: document(typed, q, ctx) });
          break;
        case 'search_result':
          items.push({ searchResult: searchResult(typed, q) });
          break;
        default:
          unsupported(`${q}.type`, `'${typed.type}' blocks are not available in tool results on Amazon Bedrock Converse`);
      }
    });
  } else if (content !== undefined && content !== null) {
    invalid(`${p}.content`, 'expected a string or an array of blocks');
  }
  if (items.length === 0) {
    items.push({ text: EMPTY_TOOL_RESULT });
    ctx.notes.push({ path: `${p}.content`, action: 'added' });
  }
  const out: ContentBlock[] = [
    { toolResult: { toolUseId: block.tool_use_id, content: items, ...(block.is_error === true ? { status: 'error' as const } : {}) } },
  ];
  // A breakpoint inside the result caches through the whole result block.
  if (innerBreakpoint && !block.cache_control) out.push(cachePoint(innerBreakpoint));
  return out;
}

function translateTools(req: AnthropicRequest, ctx: Context): ToolConfiguration | undefined {
  const tools: Tool[] = [];
  const declared = Array.isArray(req.tools) ? req.tools : [];
  declared.forEach((tool, i) => {
    const p = `tools[${i}]`;
    if (!isObject(tool)) invalid(p, 'expected an object');
    if (tool.type !== undefined && tool.type !== 'custom') {
      unsupported(`${p}.type`, `Anthropic-defined tool '${String(tool.type)}' is not available on Amazon Bedrock Converse`);
    }
    if (typeof tool.name !== 'string' || tool.name === '') invalid(`${p}.name`, 'Field required');
    if (!isObject(tool.input_schema)) invalid(`${p}.input_schema`, 'Field required');
    for (const key of Object.keys(tool)) {
      if (!TOOL_SPEC_FIELDS.has(key)) ctx.notes.push({ path: `${p}.${key}`, action: 'dropped' });
    }
    tools.push({
      toolSpec: {
        name: tool.name,
        ...(typeof tool.description === 'string' && tool.description !== '' ? { description: tool.description } : {}),
        inputSchema: { json: tool.input_schema as DocumentType },
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    });
    if (tool.cache_control) tools.push(cachePoint(tool.cache_control));
  });

  const choice = req.tool_choice;
  let toolChoice: ToolConfiguration['toolChoice'];
  let none = false;
  if (choice !== undefined && choice !== null) {
    if (!isObject(choice)) invalid('tool_choice', 'expected an object');
    switch (choice.type) {
      case 'auto':
        toolChoice = { auto: {} };
        break;
      case 'any':
        toolChoice = { any: {} };
        break;
      case 'tool':
        if (typeof choice.name !== 'string') invalid('tool_choice.name', 'Field required');
        toolChoice = { tool: { name: choice.name } };
        break;
      case 'none':
        none = true;
        break;
      default:
        invalid('tool_choice.type', `unknown tool_choice '${String(choice.type)}'`);
    }
    if (choice.disable_parallel_tool_use === true) ctx.notes.push({ path: 'tool_choice.disable_parallel_tool_use', action: 'dropped' });
  }

  if (!ctx.hasToolBlocks) {
    // Without tool history, `none` is exact: the model gets no tools at all.
    if (none || tools.length === 0) return undefined;
    return { tools, ...(toolChoice ? { toolChoice } : {}) };
  }
  // Converse refuses toolUse/toolResult history without a toolConfig.
  if (tools.length === 0) {
    for (const name of ctx.historyToolNames) {
      tools.push({ toolSpec: { name, description: HISTORY_TOOL_DESCRIPTION, inputSchema: { json: { type: 'object' } } } });
    }
    ctx.notes.push({ path: 'tools', action: 'added' });
  }
  if (none) ctx.notes.push({ path: 'tool_choice', action: 'approximated' });
  return { tools, ...(toolChoice && !none ? { toolChoice } : {}) };
}
