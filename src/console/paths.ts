/**
 * The console's paths, in one place: the pages link to each other through
 * these, and the tests (and later the browser walks) name them.
 */
import { CONSOLE } from "./context";

const seg = encodeURIComponent;

/** A path with a query; empty values are left out, so links stay short. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const PAGES = {
  home: CONSOLE,
  applications: `${CONSOLE}/applications`,
  newApplication: `${CONSOLE}/applications/new`,
  application: (id: string) => `${CONSOLE}/applications/${seg(id)}`,
  applicationSecret: (id: string) => `${CONSOLE}/applications/${seg(id)}/secret`,
  applicationDelete: (id: string) => `${CONSOLE}/applications/${seg(id)}/delete`,
  users: `${CONSOLE}/users`,
  newUser: `${CONSOLE}/users/new`,
  user: (id: string) => `${CONSOLE}/users/${seg(id)}`,
  userPassword: (id: string) => `${CONSOLE}/users/${seg(id)}/password`,
  userBlock: (id: string) => `${CONSOLE}/users/${seg(id)}/block`,
  userUnblock: (id: string) => `${CONSOLE}/users/${seg(id)}/unblock`,
  userDelete: (id: string) => `${CONSOLE}/users/${seg(id)}/delete`,
  userGrantRevoke: (id: string, grant: string) =>
    `${CONSOLE}/users/${seg(id)}/grants/${seg(grant)}/revoke`,
  userGrantsRevokeAll: (id: string) => `${CONSOLE}/users/${seg(id)}/grants/revoke-all`,
  keys: `${CONSOLE}/keys`,
  rotateKeys: `${CONSOLE}/keys/rotate`,
  keyRevoke: (kid: string) => `${CONSOLE}/keys/${seg(kid)}/revoke`,
  events: `${CONSOLE}/events`,
  /** The lead's pages (src/console/auth.tsx, administrators.tsx). */
  administrators: `${CONSOLE}/administrators`,
  signOut: `${CONSOLE}/sign-out`,
} as const;
