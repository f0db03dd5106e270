// What a developer pastes to point Claude Code at this proxy with a freshly issued key.

export interface ClaudeCodeSetup {
  baseUrl: string;
  /** For a shell: one line. */
  shellLine: string;
  /** For ~/.claude/settings.json (merged into an existing file's "env" by hand). */
  settingsJson: string;
}

export function buildClaudeCodeSetup(origin: string, rawKey: string): ClaudeCodeSetup {
  const base = origin.trim().replace(/\/+$/, '');
  const baseUrl = `${base}/ak/${encodeURIComponent(rawKey.trim())}`;
  return {
    baseUrl,
    shellLine: `export ANTHROPIC_BASE_URL=${baseUrl}`,
    settingsJson: JSON.stringify({ env: { ANTHROPIC_BASE_URL: baseUrl } }, null, 2),
  };
}
