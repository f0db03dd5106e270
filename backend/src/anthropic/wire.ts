/**
 * The slice of Anthropic's Messages wire format the Bedrock translation reads and writes
 * (docs/upstream-apis.md §1.2–1.6). Field names keep the wire's spelling. Request types are loose on
 * purpose: the proxy forwards fields it does not know, and translators check what they read.
 */

export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
  [field: string]: unknown;
}

/** A request content block; `type` picks the shape (text, image, document, tool_use, …). */
export interface AnthropicContentBlock {
  type: string;
  cache_control?: AnthropicCacheControl | null;
  [field: string]: unknown;
}

export interface AnthropicMessageParam {
  /** `system` appears inside `messages` since 2026 (Claude Code sends its environment block so). */
  role: 'user' | 'assistant' | 'system';
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  type?: string;
  description?: string;
  input_schema?: Record<string, unknown>;
  cache_control?: AnthropicCacheControl | null;
  [field: string]: unknown;
}

export interface AnthropicToolChoice {
  type: 'auto' | 'any' | 'tool' | 'none';
  name?: string;
  disable_parallel_tool_use?: boolean;
}

/** A parsed `POST /v1/messages` body. */
export interface AnthropicRequest {
  model: string;
  max_tokens?: number;
  messages: AnthropicMessageParam[];
  system?: string | AnthropicContentBlock[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  thinking?: Record<string, unknown>;
  output_config?: Record<string, unknown>;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  metadata?: Record<string, unknown>;
  stream?: boolean;
  cache_control?: AnthropicCacheControl;
  context_management?: { edits?: Array<{ type: string; [field: string]: unknown }> };
  [field: string]: unknown;
}

export type AnthropicStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/** `usage` as the wire carries it (message_start, message_delta and non-streaming bodies). */
export type AnthropicWireUsage = {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
};

/** A response content block (text, thinking, redacted_thinking, tool_use). */
export type AnthropicResponseBlock =
  | { type: 'text'; text: string; citations?: AnthropicCitation[] }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface AnthropicCitation {
  type: string;
  cited_text: string;
  [field: string]: unknown;
}

/** A non-streaming response body. */
export interface AnthropicResponseMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicWireUsage;
}

/** One SSE event's data object; `type` equals the SSE event name. */
export interface AnthropicStreamEvent {
  type: string;
  [field: string]: unknown;
}
