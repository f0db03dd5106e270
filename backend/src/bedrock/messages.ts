/**
 * Bedrock's Anthropic Messages endpoint (2026): the InvokeModel body (invoke.ts: the same fields
 * removed, betas filtered and kept with their fields) plus `model` as the Bedrock model id and the
 * version marker each host wants (bedrock-runtime: `anthropic_version` in the body;
 * bedrock-mantle: the `anthropic-version` header). Betas go in the `anthropic-beta` header.
 * Answers come back as Anthropic JSON/SSE: translate them with native-response.ts (feed each SSE
 * event's `data`, read with `createSseParser`, to `createNativeStreamTranslator`).
 */

import type { AnthropicRequest } from '../anthropic/wire.ts';
import { BEDROCK_ANTHROPIC_VERSION, buildInvokeBody } from './invoke.ts';

export interface MessagesRequestOptions {
  /** From `resolveBedrockModel`. */
  modelId: string;
  /** The client's `anthropic-beta` values. */
  betas?: readonly string[];
  /** `runtime`: `bedrock-runtime.{region}.amazonaws.com/anthropic/v1/messages`; `mantle`: `bedrock-mantle.{region}.api.aws/anthropic/v1/messages`. */
  host: 'runtime' | 'mantle';
}

export interface BuiltMessagesRequest {
  body: Record<string, unknown>;
  /** Headers to add to `content-type` and the auth header. */
  headers: Record<string, string>;
  droppedBetas: string[];
}

export function buildMessagesRequest(request: AnthropicRequest, options: MessagesRequestOptions): BuiltMessagesRequest {
  // The endpoint enforces the same rules as InvokeModel: the same fields go, each beta with its field.
  const built = buildInvokeBody(request, { betas: options.betas });
  const { anthropic_beta: betas, anthropic_version: _version, ...rest } = built.body;
  const body: Record<string, unknown> = { model: options.modelId, ...rest, ...(request.stream === true ? { stream: true } : {}) };
  const headers: Record<string, string> = {};
  if (options.host === 'runtime') body.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  else headers['anthropic-version'] = '2023-06-01';
  if (betas && betas.length > 0) headers['anthropic-beta'] = betas.join(',');
  return { body, headers, droppedBetas: built.droppedBetas };
}
