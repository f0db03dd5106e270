/**
 * Top-level `cache_control` (2026, "automatic" caching) puts a breakpoint on the last cacheable
 * block. Bedrock knows only block-level breakpoints, so the breakpoint is written onto that block,
 * which InvokeModel accepts and Converse turns into a `cachePoint`.
 */

import type { AnthropicCacheControl, AnthropicContentBlock, AnthropicMessageParam, AnthropicRequest } from '../anthropic/wire.ts';

/** Blocks Anthropic does not let carry `cache_control`. */
const UNCACHEABLE = new Set(['thinking', 'redacted_thinking']);

export interface PlacedCacheControl {
  request: AnthropicRequest;
  /** False when the request had a top-level breakpoint but no block could take it. */
  placed: boolean;
}

/**
 * Returns the request without top-level `cache_control`, its breakpoint moved onto the last
 * cacheable block (unless that block already has one). Copies only the path it changes.
 */
export function placeTopLevelCacheControl(request: AnthropicRequest): PlacedCacheControl {
  const { cache_control: top, ...rest } = request;
  if (top === undefined || top === null) return { request, placed: true };
  const messages = Array.isArray(rest.messages) ? rest.messages : [];
  for (let m = messages.length - 1; m >= 0; m--) {
    const message = messages[m];
    if (!message || typeof message !== 'object') continue;
    const content = withBreakpoint(message.content, top);
    if (content === null) continue;
    const copy = messages.slice();
    copy[m] = { ...message, content };
    return { request: { ...rest, messages: copy } as AnthropicRequest, placed: true };
  }
  return { request: rest as AnthropicRequest, placed: false };
}

function withBreakpoint(
  content: AnthropicMessageParam['content'],
  breakpoint: AnthropicCacheControl,
): AnthropicContentBlock[] | null {
  if (typeof content === 'string') {
    return content.trim() === '' ? null : [{ type: 'text', text: content, cache_control: breakpoint }];
  }
  if (!Array.isArray(content)) return null;
  for (let b = content.length - 1; b >= 0; b--) {
    const block = content[b];
    if (!block || typeof block !== 'object' || UNCACHEABLE.has(block.type)) continue;
    if (block.type === 'text' && typeof block.text === 'string' && block.text.trim() === '') continue;
    if (block.cache_control) return content;
    const copy = content.slice();
    copy[b] = { ...block, cache_control: breakpoint };
    return copy;
  }
  return null;
}
