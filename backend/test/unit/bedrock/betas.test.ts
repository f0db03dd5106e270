import { describe, expect, it } from 'vitest';
import { filterBedrockBetas, parseBetaHeader } from '../../../src/bedrock/betas.ts';
import { readFixture } from './fixtures.ts';

const firstParty = readFixture<{ headers: Record<string, string> }>('claude-code/claude-code-request-headers.json');
const bedrockCapture = readFixture<{ body: { anthropic_beta: string[] } }>('bedrock/claude-code-bedrock-invoke-request.json');

describe('filterBedrockBetas', () => {
  it("turns Claude Code's first-party betas into exactly what Claude Code itself sends to Bedrock", () => {
    const result = filterBedrockBetas(parseBetaHeader(firstParty.headers['anthropic-beta']));
    expect(result.betas).toEqual(bedrockCapture.body.anthropic_beta);
    expect(result.dropped).toEqual([
      'claude-code-20250219',
      'context-management-2025-06-27',
      'per-turn-control-2026-07-01',
      'mid-conversation-tool-changes-2026-07-01',
      'effort-2025-11-24',
    ]);
  });

  it.each([
    ['a value Bedrock accepts is kept', ['context-1m-2025-08-07'], {}, ['context-1m-2025-08-07']],
    ['advanced tool use becomes tool search', ['advanced-tool-use-2025-11-20'], {}, ['tool-search-tool-2025-10-19']],
    [
      'advanced tool use with input_examples also gets tool examples',
      ['advanced-tool-use-2025-11-20'],
      { tools: [{ name: 'a', input_examples: [{}] }] },
      ['tool-search-tool-2025-10-19', 'tool-examples-2025-10-29'],
    ],
    ['duplicates collapse', ['tool-search-tool-2025-10-19', 'advanced-tool-use-2025-11-20'], {}, ['tool-search-tool-2025-10-19']],
    ['context management stays with its field', ['context-management-2025-06-27', 'compact-2026-01-12'], { context_management: { edits: [] } }, ['context-management-2025-06-27', 'compact-2026-01-12']],
    ['context management goes without its field', ['context-management-2025-06-27', 'compact-2026-01-12'], {}, []],
    ['unknown values are dropped', ['oauth-2025-04-20', 'token-counting-2024-11-01', 'files-api-2025-04-14'], {}, []],
    ['output order is the table order', ['thinking-token-count-2026-05-13', 'interleaved-thinking-2025-05-14'], {}, ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13']],
  ])('%s', (_name, values, body, expected) => {
    expect(filterBedrockBetas(values, body).betas).toEqual(expected);
  });
});

describe('parseBetaHeader', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['a, b,,c ', ['a', 'b', 'c']],
    [['a,b', 'b, c'], ['a', 'b', 'c']],
  ] as const)('%j → %j', (header, expected) => {
    expect(parseBetaHeader(header)).toEqual(expected);
  });
});
