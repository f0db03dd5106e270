import { Link } from '../lib/router.tsx';
import { ROLE_LABELS, type Role } from '../lib/session.tsx';

/** An admin page opened by someone whose role may not see it (the API would answer 403). */
export function NotAvailablePage({ role }: { role: Role }) {
  return (
    <section data-testid="not-available">
      <h1 className="mb-2 text-2xl font-semibold">Not available to your role</h1>
      <p className="text-slate-600 dark:text-slate-300">
        This page is for admins; you are signed in as a {ROLE_LABELS[role]}.{' '}
        <Link to="/me" className="text-indigo-700 dark:text-indigo-300 underline">
          Go to my keys &amp; usage
        </Link>
        .
      </p>
    </section>
  );
}
