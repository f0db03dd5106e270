/**
 * The InvokeModel / InvokeModelWithResponseStream native body (docs/upstream-apis.md §2.4): the client's
 * Anthropic body with `model` and `stream` removed, `anthropic_version: "bedrock-2023-05-31"`,
 * betas moved into `anthropic_beta` (filtered, see betas.ts), and the fields Bedrock rejects
 * removed. Everything else, unknown top-level fields included, passes as the client sent it —
 * `role: "system"` messages, `metadata`, `thinking`, `output_config`, `defer_loading` — which is
 * what Claude Code itself sends in Bedrock mode (fixture `claude-code-bedrock-invoke-request.json`).
 */

import type { AnthropicContentBlock, AnthropicRequest } from '../anthropic/wire.ts';
import { filterBedrockBetas } from './betas.ts';
import { placeTopLevelCacheControl } from './cache-control.ts';
import { BedrockTranslationError } from './errors.ts';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** Top-level fields InvokeModel answers with 400 "Extra inputs are not permitted". */
const REJECTED_TOP_LEVEL = ['service_tier', 'speed', 'inference_geo', 'diagnostics', 'container'] as const;

/** `context_management` edits Bedrock accepts (with beta `compact-2026-01-12`). */
const BEDROCK_CONTEXT_EDITS = new Set(['compact_20260112']);

/** Keys a custom tool may carry on Bedrock; others are rejected there ("Extra inputs"). */
const CUSTOM_TOOL_FIELDS = new Set(['type', 'name', 'description', 'input_schema', 'cache_control', 'defer_loading', 'input_examples', 'strict']);

/** Message keys Bedrock knows. First-party per-turn fields (`output_config` on a message) are not among them. */
const MESSAGE_FIELDS = new Set(['role', 'content']);

export interface InvokeBodyOptions {
  /** The client's `anthropic-beta` values (`parseBetaHeader(headers['anthropic-beta'])`). */
  betas?: readonly string[];
}

export interface InvokeBody {
  anthropic_version: typeof BEDROCK_ANTHROPIC_VERSION;
  anthropic_beta?: string[];
  [field: string]: unknown;
}

export interface BuiltInvokeBody {
  /** Serialise once with `JSON.stringify` and send as the command's `body`. */
  body: InvokeBody;
  /** Client beta values Bedrock does not get. */
  droppedBetas: string[];
  /** Paths removed because Bedrock rejects them (`context_management`, `tools[3].allowed_callers`). */
  removed: string[];
}

/**
 * Builds the native body. Throws a 400 `BedrockTranslationError` for what Bedrock cannot serve at
 * all (`mcp_servers`: remote MCP tools the model would silently lose).
 */
export function buildInvokeBody(request: AnthropicRequest, options: InvokeBodyOptions = {}): BuiltInvokeBody {
  if (!request || typeof request !== 'object' || !Array.isArray(request.messages)) {
    throw new BedrockTranslationError('BEDROCK_INVALID_REQUEST', 'messages', 'messages: Field required');
  }
  const removed: string[] = [];
  const placed = placeTopLevelCacheControl(request);
  if (!placed.placed) removed.push('cache_control');

  const {
    model: _model,
    stream: _stream,
    anthropic_version: _version,
    anthropic_beta: bodyBetas,
    ...source
  } = placed.request as AnthropicRequest & { anthropic_version?: unknown; anthropic_beta?: unknown };
  const body: Record<string, unknown> = { ...source };

  for (const field of REJECTED_TOP_LEVEL) {
    if (field in body) {
      delete body[field];
      removed.push(field);
    }
  }
  if ('mcp_servers' in body) {
    if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) {
      throw new BedrockTranslationError(
        'BEDROCK_UNSUPPORTED',
        'mcp_servers',
        'mcp_servers: remote MCP servers are not available on Amazon Bedrock',
      );
    }
    delete body.mcp_servers;
  }
  cleanContextManagement(body, removed);

  body.messages = cleanMessages(placed.request.messages, removed);
  if (Array.isArray(body.system)) body.system = cleanBlocks(body.system as AnthropicContentBlock[], 'system', removed);
  if (Array.isArray(body.tools)) body.tools = cleanTools(body.tools as Record<string, unknown>[], removed);

  const clientBetas = [...(options.betas ?? []), ...(Array.isArray(bodyBetas) ? bodyBetas.filter((b): b is string => typeof b === 'string') : [])];
  const { betas, dropped } = filterBedrockBetas(clientBetas, body);
  if (betas.length > 0) body.anthropic_beta = betas;
  body.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  return { body: body as InvokeBody, droppedBetas: dropped, removed };
}

function cleanContextManagement(body: Record<string, unknown>, removed: string[]): void {
  if (!('context_management' in body)) return;
  const cm = body.context_management as { edits?: unknown } | null;
  const edits = cm && typeof cm === 'object' && Array.isArray(cm.edits) ? cm.edits : [];
  const kept = edits.filter((e) => e && typeof e === 'object' && BEDROCK_CONTEXT_EDITS.has((e as { type?: string }).type ?? ''));
  if (kept.length === 0) {
    delete body.context_management;
    removed.push('context_management');
    return;
  }
  edits.forEach((e, i) => {
    if (!kept.includes(e)) removed.push(`context_management.edits[${i}]`);
  });
  if (kept.length !== edits.length) body.context_management = { ...cm, edits: kept };
}

function cleanMessages(messages: AnthropicRequest['messages'], removed: string[]): unknown[] {
  return messages.map((message, i) => {
    if (!message || typeof message !== 'object') return message;
    let out: Record<string, unknown> = message as unknown as Record<string, unknown>;
    for (const key of Object.keys(message)) {
      if (MESSAGE_FIELDS.has(key)) continue;
      if (out === (message as unknown)) out = { ...out };
      delete out[key];
      removed.push(`messages[${i}].${key}`);
    }
    if (Array.isArray(message.content)) {
      const content = cleanBlocks(message.content, `messages[${i}].content`, removed);
      if (content !== message.content) out = { ...out, content };
    }
    return out;
  });
}

/** Strips `cache_control.scope` (rejected by Bedrock) from blocks, tool_result content included. */
function cleanBlocks(blocks: AnthropicContentBlock[], path: string, removed: string[]): AnthropicContentBlock[] {
  let out = blocks;
  blocks.forEach((block, i) => {
    if (!block || typeof block !== 'object') return;
    let next = withoutCacheScope(block, `${path}[${i}]`, removed);
    if (block.type === 'tool_result' && Array.isArray(block.content)) {
      const inner = cleanBlocks(block.content as AnthropicContentBlock[], `${path}[${i}].content`, removed);
      if (inner !== block.content) next = { ...next, content: inner };
    }
    if (next !== block) {
      if (out === blocks) out = blocks.slice();
      out[i] = next;
    }
  });
  return out;
}

function withoutCacheScope<T extends { cache_control?: unknown }>(item: T, path: string, removed: string[]): T {
  const cc = item.cache_control;
  if (!cc || typeof cc !== 'object' || !('scope' in cc)) return item;
  const { scope: _scope, ...rest } = cc as Record<string, unknown>;
  removed.push(`${path}.cache_control.scope`);
  return { ...item, cache_control: rest };
}

function cleanTools(tools: Record<string, unknown>[], removed: string[]): Record<string, unknown>[] {
  return tools.map((tool, i) => {
    if (!tool || typeof tool !== 'object') return tool;
    let out = withoutCacheScope(tool, `tools[${i}]`, removed);
    const custom = tool.type === undefined || tool.type === 'custom';
    if (!custom) return out;
    for (const key of Object.keys(out)) {
      if (CUSTOM_TOOL_FIELDS.has(key)) continue;
      if (out === tool) out = { ...out };
      delete out[key];
      removed.push(`tools[${i}].${key}`);
    }
    return out;
  });
}
