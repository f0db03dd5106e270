import { useState, type FormEvent } from 'react';
import { Alert } from '../components/Alert.tsx';
import { api } from '../lib/api.ts';
import { safeNextPath } from '../lib/next-path.ts';
import { ApiError, errorText } from '../lib/api-error.ts';
import { useAsync } from '../lib/use-async.ts';

/** The identity provider as a person knows it: its issuer's host ("acme.okta.com"). */
function providerName(issuer: string): string {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

/** The company sign-in link, carrying the page to open afterwards (as the password login does). */
function companySignInUrl(loginUrl: string): string {
  const next = safeNextPath(window.location.search);
  return next === '/' ? loginUrl : `${loginUrl}?next=${encodeURIComponent(next)}`;
}

export function LoginPage({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // A refused company sign-in comes back here as ?sign_in_error=… (the server's reason).
  const [error, setError] = useState<string | null>(() => new URLSearchParams(window.location.search).get('sign_in_error'));
  const [busy, setBusy] = useState(false);
  // Company sign-in is offered when the server has OIDC_ISSUER; the password form stays (break-glass admin).
  const methods = useAsync(() => api.authMethods(), []);
  const oidc = methods.data?.oidc ?? null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!username || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.login(username, password);
      await onLoggedIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Wrong username or password.');
      else if (err instanceof ApiError && err.status === 429) {
        setError(err.retryAfter ? `Too many failed logins. Try again in ${err.retryAfter} seconds.` : err.message);
      } else setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-semibold">Sign in</h1>
        <p className="mb-6 text-sm text-slate-600 dark:text-slate-300">Claude Code Proxy administration</p>
        {oidc && (
          <div className="card mb-4 space-y-2">
            {/* A plain link: the server redirects to the identity provider and back (README "Sign-in and roles"). */}
            <a href={companySignInUrl(oidc.login_url)} className="btn-primary w-full" data-testid="oidc-sign-in">
              Sign in with {providerName(oidc.issuer)}
            </a>
            <p className="text-xs text-slate-600 dark:text-slate-300">Your company account: your own keys and usage, or the admin pages your role allows.</p>
          </div>
        )}
        {oidc && <h2 className="mb-2 text-sm font-medium text-slate-700 dark:text-slate-200">Or the admin password (break-glass)</h2>}
        <form onSubmit={submit} className="card space-y-4" noValidate>
          {error && <Alert>{error}</Alert>}
          <div>
            <label htmlFor="login-username" className="label">
              Username
            </label>
            <input id="login-username" className="input" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
          </div>
          <div>
            <label htmlFor="login-password" className="label">
              Password
            </label>
            <input
              id="login-password"
              type="password"
              className="input"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <button type="submit" className="btn-primary w-full" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
