/**
 * The console's paths, in one place: the pages link to each other through
 * these, and the tests (and later the browser walks) name them.
 */
export const CONSOLE_ROOT = "/console";

const seg = encodeURIComponent;

/** A path with a query; empty values are left out, so links stay short. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const CONSOLE = {
  home: CONSOLE_ROOT,
  applications: `${CONSOLE_ROOT}/applications`,
  newApplication: `${CONSOLE_ROOT}/applications/new`,
  application: (id: string) => `${CONSOLE_ROOT}/applications/${seg(id)}`,
  applicationSecret: (id: string) => `${CONSOLE_ROOT}/applications/${seg(id)}/secret`,
  applicationDelete: (id: string) => `${CONSOLE_ROOT}/applications/${seg(id)}/delete`,
  users: `${CONSOLE_ROOT}/users`,
  newUser: `${CONSOLE_ROOT}/users/new`,
  user: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}`,
  userPassword: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}/password`,
  userBlock: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}/block`,
  userUnblock: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}/unblock`,
  userDelete: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}/delete`,
  userGrantRevoke: (id: string, grant: string) =>
    `${CONSOLE_ROOT}/users/${seg(id)}/grants/${seg(grant)}/revoke`,
  userGrantsRevokeAll: (id: string) => `${CONSOLE_ROOT}/users/${seg(id)}/grants/revoke-all`,
  keys: `${CONSOLE_ROOT}/keys`,
  rotateKeys: `${CONSOLE_ROOT}/keys/rotate`,
  keyRevoke: (kid: string) => `${CONSOLE_ROOT}/keys/${seg(kid)}/revoke`,
  events: `${CONSOLE_ROOT}/events`,
  signOut: `${CONSOLE_ROOT}/sign-out`,
} as const;
