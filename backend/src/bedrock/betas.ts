/**
 * `anthropic-beta` values → what Bedrock accepts in the body's `anthropic_beta` (docs/upstream-apis.md §2.4).
 *
 * Bedrock answers 400 "invalid beta flag" to values it does not know, so this is an allow-list:
 * every input value either produces one of the rows below or is dropped. The rows follow what
 * Claude Code itself puts into `anthropic_beta` in Bedrock mode (captured: interleaved-thinking,
 * tool-search-tool, thinking-token-count) plus litellm's Bedrock allow-list.
 *
 * Dropped on purpose, although first-party Claude Code sends them:
 * - `claude-code-20250219`, `effort-2025-11-24`: Claude Code's Bedrock mode leaves these in the
 *   HTTP header, which Bedrock ignores, and keeps them out of the body.
 * - `per-turn-control-2026-07-01`, `mid-conversation-tool-changes-2026-07-01`: absent from Claude
 *   Code's Bedrock requests.
 * - `context-management-2025-06-27` unless the body still has `context_management` (Bedrock
 *   rejects `clear_thinking_*` edits, so that field is usually removed).
 * - `advanced-tool-use-2025-11-20` becomes `tool-search-tool-2025-10-19` (and
 *   `tool-examples-2025-10-29` when a tool carries `input_examples`), as Claude Code does.
 * - Anything else (`token-counting-*`, `oauth-*`, `files-api-*`, `mcp-client-*`, …).
 */

interface BodyFacts {
  context_management?: unknown;
  tools?: unknown;
}

interface BedrockBetaRow {
  /** The value Bedrock receives. */
  bedrock: string;
  /** Client values that produce it (itself included). */
  from: readonly string[];
  /** Only emitted when the (already cleaned) body uses the feature. */
  requires?: (body: BodyFacts) => boolean;
}

const hasContextManagement = (body: BodyFacts) => body.context_management !== undefined && body.context_management !== null;
const hasInputExamples = (body: BodyFacts) =>
  Array.isArray(body.tools) && body.tools.some((t) => t !== null && typeof t === 'object' && 'input_examples' in t);

/** Output order is table order, so the result is deterministic whatever order the client used. */
const BEDROCK_BETAS: readonly BedrockBetaRow[] = [
  { bedrock: 'interleaved-thinking-2025-05-14', from: ['interleaved-thinking-2025-05-14'] },
  { bedrock: 'dev-full-thinking-2025-05-14', from: ['dev-full-thinking-2025-05-14'] },
  { bedrock: 'context-1m-2025-08-07', from: ['context-1m-2025-08-07'] },
  { bedrock: 'context-management-2025-06-27', from: ['context-management-2025-06-27'], requires: hasContextManagement },
  { bedrock: 'compact-2026-01-12', from: ['compact-2026-01-12'], requires: hasContextManagement },
  { bedrock: 'token-efficient-tools-2025-02-19', from: ['token-efficient-tools-2025-02-19'] },
  { bedrock: 'output-128k-2025-02-19', from: ['output-128k-2025-02-19'] },
  { bedrock: 'computer-use-2024-10-22', from: ['computer-use-2024-10-22'] },
  { bedrock: 'computer-use-2025-01-24', from: ['computer-use-2025-01-24'] },
  { bedrock: 'computer-use-2025-11-24', from: ['computer-use-2025-11-24'] },
  { bedrock: 'tool-search-tool-2025-10-19', from: ['tool-search-tool-2025-10-19', 'advanced-tool-use-2025-11-20'] },
  { bedrock: 'tool-examples-2025-10-29', from: ['tool-examples-2025-10-29'] },
  { bedrock: 'tool-examples-2025-10-29', from: ['advanced-tool-use-2025-11-20'], requires: hasInputExamples },
  { bedrock: 'thinking-token-count-2026-05-13', from: ['thinking-token-count-2026-05-13'] },
];

export interface BedrockBetas {
  /** Values for the body's `anthropic_beta` (empty: leave the field out). */
  betas: string[];
  /** Client values that produced nothing, for metrics. */
  dropped: string[];
}

/** Splits `anthropic-beta` header value(s) (comma-separated, possibly repeated) into values. */
export function parseBetaHeader(header: string | readonly string[] | null | undefined): string[] {
  if (header === null || header === undefined) return [];
  const parts = (typeof header === 'string' ? [header] : header).flatMap((h) => h.split(','));
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
}

/** Filters and translates client beta values for a Bedrock body shaped like `body`. */
export function filterBedrockBetas(values: readonly string[], body: BodyFacts = {}): BedrockBetas {
  const input = new Set(values.map((v) => v.trim()).filter((v) => v !== ''));
  const betas: string[] = [];
  const used = new Set<string>();
  for (const row of BEDROCK_BETAS) {
    const sources = row.from.filter((f) => input.has(f));
    if (sources.length === 0) continue;
    if (row.requires && !row.requires(body)) continue;
    if (!betas.includes(row.bedrock)) betas.push(row.bedrock);
    for (const s of sources) used.add(s);
  }
  return { betas, dropped: [...input].filter((v) => !used.has(v)) };
}
