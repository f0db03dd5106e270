import { useEffect, useId, useRef, type ReactNode } from 'react';
import { CopyButton } from './CopyButton.tsx';

/**
 * A secret just made (an access key, an automation token): shown this once, focused so a screen
 * reader reads it out, with what to paste where (`children`, mostly Snippets), and a button that
 * hides it for good.
 */
export function SecretReveal({
  title,
  note,
  testId,
  hideLabel,
  onDone,
  children,
}: {
  title: string;
  /** Said under the title: that it is shown only now, and anything else to know first. */
  note: ReactNode;
  testId: string;
  hideLabel: string;
  onDone: () => void;
  children: ReactNode;
}) {
  const titleId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  return (
    <section data-testid={testId} aria-labelledby={titleId} className="space-y-3 rounded-lg border-2 border-emerald-400 bg-emerald-50 dark:bg-emerald-950 p-4">
      <h3 id={titleId} ref={headingRef} tabIndex={-1} className="font-semibold text-emerald-900 dark:text-emerald-100">
        {title}
      </h3>
      <p className="text-sm text-emerald-900 dark:text-emerald-100">{note}</p>
      {children}
      <button type="button" className="btn-secondary" onClick={onDone}>
        {hideLabel}
      </button>
    </section>
  );
}

/** One thing to copy: labelled, in a scrolling code block, with its copy button. */
export function Snippet({ label, text, copyLabel, testId }: { label: string; text: string; copyLabel: string; testId: string }) {
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
