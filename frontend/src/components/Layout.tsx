import { useState, type ReactNode } from 'react';
import { errorText } from '../lib/api-error.ts';
import { Link, useLocation } from '../lib/router.tsx';
import { ROLE_LABELS, type Role } from '../lib/session.tsx';
import type { Session } from '../lib/types.ts';
import { Alert } from './Alert.tsx';

type NavItem = { to: string; label: string; roles?: readonly Role[] };

/** `roles`: only these see the entry (App.tsx gives the page the same roles). */
const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/users', label: 'Users' },
  { to: '/requests', label: 'Requests' },
  { to: '/pricing', label: 'Pricing' },
  { to: '/model-mappings', label: 'Model mappings' },
  { to: '/audit-log', label: 'Audit log' },
  { to: '/api-tokens', label: 'API tokens', roles: ['admin'] },
];
const ME: NavItem = { to: '/me', label: 'My keys & usage' };

/** The session's pages: a developer has only their own; an admin or viewer who is a user has it too. */
function navFor(session: Session): NavItem[] {
  if (session.role === 'developer') return [ME];
  const pages = NAV.filter((item) => !item.roles || item.roles.includes(session.role));
  return session.user_id ? [...pages, ME] : pages;
}

function isCurrent(to: string, path: string): boolean {
  return to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);
}

export function Layout({ session, onLogout, children }: { session: Session; onLogout: () => Promise<void>; children: ReactNode }) {
  const { path } = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const logout = async () => {
    setBusy(true);
    setError(null);
    try {
      await onLogout();
    } catch (err) {
      setError(`Logout failed: ${errorText(err)}`);
      setBusy(false);
    }
  };

  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only rounded-md bg-white dark:bg-slate-900 px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-10">
        Skip to content
      </a>
      <header className="border-b border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link to="/" className="font-semibold text-slate-900 dark:text-slate-100">
            Claude Code Proxy <span className="font-normal text-slate-500 dark:text-slate-400">{session.role === 'developer' ? 'self-service' : 'admin'}</span>
          </Link>
          <nav aria-label="Main" className="order-last w-full sm:order-none sm:w-auto">
            <ul className="flex flex-wrap gap-1">
              {navFor(session).map((item) => (
                <li key={item.to}>
                  <Link
                    to={item.to}
                    aria-current={isCurrent(item.to, path) || (item === ME && session.role === 'developer' && path === '/') ? 'page' : undefined}
                    className="block rounded-md px-3 py-1.5 text-sm text-slate-700 dark:text-slate-200 hover:bg-slate-100 dark:hover:bg-slate-800 aria-[current=page]:bg-indigo-50 dark:aria-[current=page]:bg-indigo-950 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700 dark:aria-[current=page]:text-indigo-300"
                  >
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="text-slate-500 dark:text-slate-400" data-testid="signed-in-as">
              Signed in as <span className="font-medium text-slate-700 dark:text-slate-200">{session.username}</span> ({ROLE_LABELS[session.role]})
            </span>
            <button type="button" onClick={logout} disabled={busy} className="btn-secondary">
              {busy ? 'Logging out…' : 'Log out'}
            </button>
          </div>
        </div>
        {error && (
          <div className="mx-auto max-w-7xl px-4 pb-3">
            <Alert>{error}</Alert>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-6 focus:outline-none">
        {children}
      </main>
    </div>
  );
}
