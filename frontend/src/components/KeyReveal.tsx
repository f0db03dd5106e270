import { formatDateTime } from '../lib/format.ts';
import { buildClaudeCodeSetup } from '../lib/setup-snippet.ts';
import type { NewKey } from '../lib/types.ts';
import { SecretReveal, Snippet } from './SecretReveal.tsx';

/** A key just issued or rotated: shown this once, with the Claude Code set-up to paste. */
export function KeyReveal({ issued, onDone }: { issued: NewKey; onDone: () => void }) {
  const setup = buildClaudeCodeSetup(window.location.origin, issued.raw_key);
  return (
    <SecretReveal
      testId="new-key"
      title={issued.replaces ? 'Key rotated: here is the new key' : 'New access key'}
      note={
        <>
          Copy it now: it is shown only this once and cannot be retrieved later.
          {issued.replaces && ` The old key keeps working until ${formatDateTime(issued.replaces.rotation_expires_at)}, then the server revokes it.`}
        </>
      }
      hideLabel="I have copied it, hide the key"
      onDone={onDone}
    >
      <Snippet label="Access key" text={issued.raw_key} copyLabel="Copy key" testId="new-key-value" />
      <Snippet label="Shell (one session)" text={setup.shellLine} copyLabel="Copy shell line" testId="setup-shell" />
      <Snippet label="~/.claude/settings.json (for good, with the status line)" text={setup.settingsJson} copyLabel="Copy settings.json" testId="setup-settings" />
      <p className="text-xs text-emerald-900 dark:text-emerald-100">
        The status line shows, under Claude Code's prompt, whether the Plan or Bedrock serves now, the Plan's 5-hour and 7-day use, and this month's Bedrock spend.
      </p>
    </SecretReveal>
  );
}
