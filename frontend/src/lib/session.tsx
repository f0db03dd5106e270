import { createContext, useContext } from 'react';
import type { Session } from './types.ts';

// Who is signed in, for the pages that show or hide controls by role (README "Sign-in and roles"):
// the API refuses a viewer's change and a developer's admin page anyway; the dashboard does not
// offer them.

const SessionContext = createContext<Session | null>(null);

export const SessionProvider = SessionContext.Provider;

export type Role = Session['role'];

/** The signed-in session (null only outside the signed-in shell, e.g. in a component test). */
export function useSession(): Session | null {
  return useContext(SessionContext);
}

/** Whether the signed-in person may change things on the admin pages: admins only (viewers read). */
export function useCanChange(): boolean {
  const session = useSession();
  return session === null || session.role === 'admin';
}

export const ROLE_LABELS: Record<Role, string> = { admin: 'admin', viewer: 'viewer (read only)', developer: 'developer' };
