/**
 * Administrators: the people who run the service, each with their own
 * account (not the shared ADMIN_TOKEN). Separate from end users: they sign
 * in at the console, not at /authorize, and nothing an end user can do
 * reaches their accounts.
 */

/**
 * `admin` may change anything the admin API and the console offer; `viewer`
 * may only look (every method but GET and HEAD is refused, on both surfaces).
 */
export const ADMINISTRATOR_ROLES = ["admin", "viewer"] as const;
export type AdministratorRole = (typeof ADMINISTRATOR_ROLES)[number];

/** Who is acting: an administrator's name and role, as a request carries it. */
export interface Administrator {
  username: string;
  role: AdministratorRole;
}

/** What the admin API and the console show of an account (never its password hash). */
export interface AdministratorView extends Administrator {
  created_at: number;
  updated_at: number;
}

/** Letters, digits and . _ @ + -, as end users' names; compared in lower case. */
export const ADMINISTRATOR_NAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;
export const normalizeAdministratorName = (name: string): string =>
  name.normalize("NFKC").toLowerCase().trim();

/** The acting identity of a request made with the ADMIN_TOKEN secret (README, "Administrators"). */
export const ADMIN_TOKEN_ACTOR: Administrator = { username: "admin-token", role: "admin" };

/** A viewer may look; only an admin may change. */
export const mayChange = (who: Administrator): boolean => who.role === "admin";

export type SignInResult =
  | { ok: true; administrator: Administrator }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "locked"; retryAfter: number };

/** A console session, as the object gives it back for the cookie's id. */
export interface ConsoleSession {
  administrator: Administrator;
  /** The session's CSRF token: every console form carries it (src/console/auth.tsx). */
  csrf: string;
}
