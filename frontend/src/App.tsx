import { lazy, Suspense, useCallback, useEffect, useState, type ReactNode } from 'react';
import { Alert } from './components/Alert.tsx';
import { Layout } from './components/Layout.tsx';
import { AppSkeleton, PageSkeleton } from './components/Skeleton.tsx';
import { api, serverTimeZone, setUnauthorizedHandler } from './lib/api.ts';
import { setShownTimeZone } from './lib/format.ts';
import { errorText } from './lib/api-error.ts';
import { loginPathFor, safeNextPath } from './lib/next-path.ts';
import { matchRoute, navigate, useLocation } from './lib/router.tsx';
import { SessionProvider, type Role } from './lib/session.tsx';
import type { Session } from './lib/types.ts';
import { LoginPage } from './pages/LoginPage.tsx';
import { NotAvailablePage } from './pages/NotAvailablePage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';

// Pages load on first visit: the login page does not wait for the chart library.
const ApiTokensPage = lazy(() => import('./pages/ApiTokensPage.tsx').then((m) => ({ default: m.ApiTokensPage })));
const AuditLogPage = lazy(() => import('./pages/AuditLogPage.tsx').then((m) => ({ default: m.AuditLogPage })));
const MePage = lazy(() => import('./pages/MePage.tsx').then((m) => ({ default: m.MePage })));
const ModelMappingsPage = lazy(() => import('./pages/ModelMappingsPage.tsx').then((m) => ({ default: m.ModelMappingsPage })));
const OverviewPage = lazy(() => import('./pages/OverviewPage.tsx').then((m) => ({ default: m.OverviewPage })));
const RequestsPage = lazy(() => import('./pages/RequestsPage.tsx').then((m) => ({ default: m.RequestsPage })));
const PricingPage = lazy(() => import('./pages/PricingPage.tsx').then((m) => ({ default: m.PricingPage })));
const UserDetailPage = lazy(() => import('./pages/UserDetailPage.tsx').then((m) => ({ default: m.UserDetailPage })));
const UsersPage = lazy(() => import('./pages/UsersPage.tsx').then((m) => ({ default: m.UsersPage })));

/** `roles`: who may open the page when not every admin-page role may (a viewer sees "not available"). */
type Route = { pattern: string; title: string; roles?: readonly Role[]; render: (params: Record<string, string>) => ReactNode };
const ROUTES: Route[] = [
  { pattern: '/', title: 'Overview', render: () => <OverviewPage /> },
  { pattern: '/users', title: 'Users', render: () => <UsersPage /> },
  // key: another user's page starts fresh.
  { pattern: '/users/:id', title: 'User', render: (p) => <UserDetailPage key={p.id} userId={p.id!} /> },
  { pattern: '/requests', title: 'Requests', render: () => <RequestsPage /> },
  { pattern: '/pricing', title: 'Pricing', render: () => <PricingPage /> },
  { pattern: '/model-mappings', title: 'Model mappings', render: () => <ModelMappingsPage /> },
  { pattern: '/audit-log', title: 'Audit log', render: () => <AuditLogPage /> },
  { pattern: '/api-tokens', title: 'API tokens', roles: ['admin'], render: () => <ApiTokensPage /> },
];
const ME: Route = { pattern: '/me', title: 'My keys & usage', render: () => <MePage /> };

/**
 * The session's role decides the pages (README "Sign-in and roles"): admins and viewers see every
 * admin page (viewers without the controls that change things, and not the admins' own pages such
 * as API tokens) and /me when they are a user; a developer sees only their own page, at / too, and
 * "not available" on an admin page.
 */
function routeFor(path: string, session: Session): { title: string; page: ReactNode } {
  if (session.role === 'developer') {
    if (path === '/' || matchRoute(ME.pattern, path)) return { title: ME.title, page: ME.render({}) };
    if (ROUTES.some((route) => matchRoute(route.pattern, path))) return { title: 'Not available', page: <NotAvailablePage role={session.role} /> };
    return { title: 'Page not found', page: <NotFoundPage /> };
  }
  for (const route of [...ROUTES, ME]) {
    const params = matchRoute(route.pattern, path);
    if (params && route.roles && !route.roles.includes(session.role)) return { title: 'Not available', page: <NotAvailablePage role={session.role} /> };
    if (params) return { title: route.title, page: route.render(params) };
  }
  return { title: 'Page not found', page: <NotFoundPage /> };
}

export function App() {
  // undefined: not known yet; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [bootError, setBootError] = useState<string | null>(null);
  const { path, search } = useLocation();

  const refresh = useCallback(async () => {
    try {
      const current = await api.session();
      // Every instant is shown in the server's TIMEZONE: learnt before the first page shows.
      if (current) {
        // A deactivated developer's own routes answer 403: their page says so (with Log out) rather
        // than the app failing to start; nothing with a time is shown to them then.
        const zone = await serverTimeZone(current.role).catch((err: unknown) => {
          if (current.role === 'developer') return null;
          throw err;
        });
        if (zone) setShownTimeZone(zone);
      }
      setSession(current);
      setBootError(null);
    } catch (err) {
      setBootError(errorText(err));
    }
  }, []);

  useEffect(() => {
    // Any 401 (expired or revoked session) brings the login page back.
    setUnauthorizedHandler(() => setSession(null));
    void refresh();
  }, [refresh]);

  useEffect(() => {
    if (session === null && path !== '/login') navigate(loginPathFor(path + search), { replace: true });
    if (session && path === '/login') navigate(safeNextPath(search), { replace: true });
  }, [session, path, search]);

  const route = session ? routeFor(path, session) : { title: 'Sign in', page: null };
  useEffect(() => {
    // The tab (and a screen reader's announcement of it) names the page.
    document.title = `${route.title} · Claude Code Proxy admin`;
  }, [route.title]);

  if (bootError) {
    return (
      <main className="mx-auto max-w-xl p-6">
        <h1 className="mb-4 text-2xl font-semibold">Claude Code Proxy admin</h1>
        <Alert>{bootError}</Alert>
        <button type="button" className="btn-secondary mt-4" onClick={() => void refresh()}>
          Try again
        </button>
      </main>
    );
  }
  if (session === undefined) return <AppSkeleton />;
  if (session === null) return <LoginPage onLoggedIn={refresh} />;

  const logout = async () => {
    await api.logout();
    setSession(null);
    navigate('/login', { replace: true });
  };
  return (
    <SessionProvider value={session}>
      <Layout session={session} onLogout={logout}>
        <Suspense fallback={<PageSkeleton />}>{route.page}</Suspense>
      </Layout>
    </SessionProvider>
  );
}
