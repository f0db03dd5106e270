import type { RoutingStrategy } from '../lib/types.ts';

/**
 * A user with a key that has no Bedrock key. Routed Plan first, nothing takes over when Anthropic
 * refuses; routed to Bedrock only, every request of that key is refused (PROXY_NO_BEDROCK_KEY).
 */
export function NoBedrockKeyFlag({ routing }: { routing: RoutingStrategy }) {
  const refused = routing === 'bedrock_only';
  return (
    <span
      data-testid="no-bedrock-key"
      className="mt-1 inline-block rounded-full border border-amber-400 bg-amber-50 dark:bg-amber-950 px-2 py-0.5 text-xs font-semibold whitespace-nowrap text-amber-900 dark:text-amber-200"
      title={
        refused
          ? 'A key of this user has no Bedrock key: routed to Bedrock only, its requests are refused.'
          : "A key of this user has no Bedrock key: Anthropic's rate limits and errors reach Claude Code unchanged."
      }
    >
      {refused ? '⚠ refused: bedrock_only without a Bedrock key' : '⚠ cannot fall back: no Bedrock key'}
    </span>
  );
}
