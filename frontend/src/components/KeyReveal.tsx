import { useEffect, useRef } from 'react';
import { formatDateTime } from '../lib/format.ts';
import { buildClaudeCodeSetup } from '../lib/setup-snippet.ts';
import type { NewKey } from '../lib/types.ts';
import { CopyButton } from './CopyButton.tsx';

/** A key just issued or rotated: shown this once, with the Claude Code set-up to paste. */
export function KeyReveal({ issued, onDone }: { issued: NewKey; onDone: () => void }) {
  const setup = buildClaudeCodeSetup(window.location.origin, issued.raw_key);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  return (
    <section data-testid="new-key" aria-labelledby="new-key-title" className="space-y-3 rounded-lg border-2 border-emerald-400 bg-emerald-50 dark:bg-emerald-950 p-4">
      <h3 id="new-key-title" ref={headingRef} tabIndex={-1} className="font-semibold text-emerald-900">
        {issued.replaces ? 'Key rotated: here is the new key' : 'New access key'}
      </h3>
      <p className="text-sm text-emerald-900">
        Copy it now: it is shown only this once and cannot be retrieved later.
        {issued.replaces && ` The old key keeps working until ${formatDateTime(issued.replaces.rotation_expires_at)}, then the server revokes it.`}
      </p>
      <Snippet label="Access key" text={issued.raw_key} copyLabel="Copy key" testId="new-key-value" />
      <Snippet label="Shell (one session)" text={setup.shellLine} copyLabel="Copy shell line" testId="setup-shell" />
      <Snippet label="~/.claude/settings.json (for good, with the status line)" text={setup.settingsJson} copyLabel="Copy settings.json" testId="setup-settings" />
      <p className="text-xs text-emerald-900">
        The status line shows, under Claude Code's prompt, whether the Plan or Bedrock serves now, the Plan's 5-hour and 7-day use, and this month's Bedrock spend.
      </p>
      <button type="button" className="btn-secondary" onClick={onDone}>
        I have copied it, hide the key
      </button>
    </section>
  );
}

function Snippet({ label, text, copyLabel, testId }: { label: string; text: string; copyLabel: string; testId: string }) {
  return (
    <div>
      <p className="label">{label}</p>
      <div className="flex items-start gap-2">
        <pre data-testid={testId} className="min-w-0 flex-1 overflow-x-auto rounded-md bg-slate-900 px-3 py-2 text-xs text-slate-100">
          <code>{text}</code>
        </pre>
        <CopyButton text={text} label={copyLabel} />
      </div>
    </div>
  );
}
