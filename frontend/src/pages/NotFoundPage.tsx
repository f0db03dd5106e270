import { Link } from '../lib/router.tsx';

export function NotFoundPage() {
  return (
    <section>
      <h1 className="mb-2 text-2xl font-semibold">Page not found</h1>
      <p className="text-slate-600 dark:text-slate-300">
        There is no page at this address. <Link to="/" className="text-indigo-700 dark:text-indigo-300 underline">Go to the overview</Link>.
      </p>
    </section>
  );
}
