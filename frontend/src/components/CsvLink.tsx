/** A CSV export of what a table or chart shows: a plain link (the session cookie authenticates it). */
export function CsvLink({ href, what }: { href: string; what: string }) {
  return (
    <a href={href} download className="btn-secondary">
      Download CSV<span className="sr-only"> of {what}</span>
    </a>
  );
}
