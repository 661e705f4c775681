import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/bytes";
import { serverKeys } from "../server-keys";

/**
 * The login session: a signed cookie (HttpOnly, SameSite=Lax, Secure outside
 * localhost) so that a second authorization skips the password. It names the
 * account, the session (its `sid`, kept by the account's User object, which
 * logout ends) and the account's session version: a password change, block
 * or deletion bumps the version and so ends every session at once.
 */
export interface LoginSession {
  sub: string;
  /**
   * The session's id: the User object keeps the session under it, and the
   * session stands only while that record does (logout ends it there).
   */
  sid: string;
  /** The account's session_version when the user signed in. */
  version: number;
  /** When the user entered their password (OIDC auth_time), seconds. */
  authTime: number;
  /** Seconds. */
  expiresAt: number;
}

/** A "__Host-" cookie (Secure, Path=/, no Domain): see src/browser/interaction.ts. */
const COOKIE = "__Host-ets_session";

/** Any request context of the Worker: the cookie needs only the request and the keys. */
// biome-ignore lint/suspicious/noExplicitAny: whatever variables the surface has.
type AnyContext = Context<{ Bindings: Env; Variables: any }>;

export async function readSession(c: AnyContext): Promise<LoginSession | undefined> {
  const keys = await serverKeys(c.env);
  const value = await getSignedCookie(c, keys.session as BufferSource, COOKIE);
  if (!value) return undefined;
  const bytes = fromBase64Url(value);
  if (!bytes) return undefined;
  try {
    const session = JSON.parse(new TextDecoder().decode(bytes)) as LoginSession;
    // A cookie from before sessions had ids names no session: sign in again.
    if (typeof session.sid !== "string") return undefined;
    return session.expiresAt > Date.now() / 1000 ? session : undefined;
  } catch {
    return undefined;
  }
}

export async function writeSession(c: AnyContext, session: LoginSession): Promise<void> {
  const keys = await serverKeys(c.env);
  await setSignedCookie(
    c,
    COOKIE,
    toBase64Url(utf8(JSON.stringify(session))),
    keys.session as BufferSource,
    {
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
      path: "/",
      maxAge: Math.max(0, Math.floor(session.expiresAt - Date.now() / 1000)),
    },
  );
}

export function clearSession(c: AnyContext): void {
  deleteCookie(c, COOKIE, { path: "/", secure: true });
}
