/**
 * Bedrock's Anthropic Messages endpoint (protocol.md §2.1, 2026): the client's body nearly
 * unchanged — only `model` becomes the Bedrock model id, plus the version marker each host
 * wants (bedrock-runtime: `anthropic_version` in the body; bedrock-mantle: the
 * `anthropic-version` header). Betas go in the `anthropic-beta` header, filtered as for InvokeModel.
 * Answers come back as Anthropic JSON/SSE: translate them with native-response.ts (feed each SSE
 * event's `data`, read with `createSseParser`, to `createNativeStreamTranslator`).
 */

import type { AnthropicRequest } from './anthropic-wire.ts';
import { filterBedrockBetas } from './betas.ts';
import { BEDROCK_ANTHROPIC_VERSION } from './invoke.ts';

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
  const body: Record<string, unknown> = { ...request, model: options.modelId };
  const headers: Record<string, string> = {};
  if (options.host === 'runtime') body.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  else headers['anthropic-version'] = '2023-06-01';
  const { betas, dropped } = filterBedrockBetas(options.betas ?? [], body);
  if (betas.length > 0) headers['anthropic-beta'] = betas.join(',');
  return { body, headers, droppedBetas: dropped };
}
