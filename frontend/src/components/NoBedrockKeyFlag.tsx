/** A user routed Plan first with a key that has no Bedrock key: when Anthropic refuses, nothing can take over. */
export function NoBedrockKeyFlag() {
  return (
    <span
      data-testid="no-bedrock-key"
      className="mt-1 inline-block rounded-full border border-amber-400 bg-amber-50 dark:bg-amber-950 px-2 py-0.5 text-xs font-semibold whitespace-nowrap text-amber-900 dark:text-amber-200"
      title="A key of this user has no Bedrock key: Anthropic's rate limits and errors reach Claude Code unchanged."
    >
      ⚠ cannot fall back: no Bedrock key
    </span>
  );
}
