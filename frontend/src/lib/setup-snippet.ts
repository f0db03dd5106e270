// What a developer pastes to point Claude Code at this proxy with a freshly issued key.

export interface ClaudeCodeSetup {
  baseUrl: string;
  /** For a shell: one line. */
  shellLine: string;
  /** Claude Code's statusLine command: the proxy's one-line status for this key (Plan window, Bedrock spend). */
  statusCommand: string;
  /** For ~/.claude/settings.json (merged into an existing file's "env" and "statusLine" by hand). */
  settingsJson: string;
}

export function buildClaudeCodeSetup(origin: string, rawKey: string): ClaudeCodeSetup {
  const base = origin.trim().replace(/\/+$/, '');
  const baseUrl = `${base}/ak/${encodeURIComponent(rawKey.trim())}`;
  // Claude Code pipes its session JSON to the command: posted as is, so the line speaks of that session and model.
  // -f and a short timeout: a failing or slow proxy leaves the status line empty, never hangs it.
  const statusCommand = `curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' ${baseUrl}/status`;
  return {
    baseUrl,
    shellLine: `export ANTHROPIC_BASE_URL=${baseUrl}`,
    statusCommand,
    settingsJson: JSON.stringify({ env: { ANTHROPIC_BASE_URL: baseUrl }, statusLine: { type: 'command', command: statusCommand } }, null, 2),
  };
}
