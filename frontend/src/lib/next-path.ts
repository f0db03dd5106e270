/**
 * Where to go after signing in, from `?next=`: only a path on this site ("/users/42"), never
 * another origin ("//evil.example", "https://…") or the login page itself.
 */
export function safeNextPath(search: string): string {
  const next = new URLSearchParams(search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next === '/login' || next.startsWith('/login?')) return '/';
  return next;
}

/** The login page's address that brings the admin back to `path` afterwards. */
export function loginPathFor(path: string): string {
  return path === '/' || path.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(path)}`;
}
