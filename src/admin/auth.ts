import type { MiddlewareHandler } from "hono";
import { adminToken, isAdminToken } from "../administrators/admin-token";
import { ADMIN_TOKEN_ACTOR, type Administrator, mayChange } from "../administrators/model";
import { OAuthError } from "../errors";
import { signInAdministrator } from "../http/administrator-sign-in";
import type { AppEnv } from "../http/context";
import { clientAuthBlocked, noteClientAuthFailure, tooManyFailures } from "../http/rate-limits";
import { securityEvent, withActor } from "../log";

/**
 * RFC 6750 §3. Basic (RFC 7617) is taken too, but never asked for: a Basic
 * challenge makes a browser prompt for a password and then send it by itself
 * with every later request to this path, which a cross-site form could ride.
 */
const challenge = { "WWW-Authenticate": 'Bearer realm="admin"' };

/**
 * Who may call the admin API (README, "Administrators"): an administrator
 * with their own name and password (HTTP Basic, RFC 7617), checked like a
 * console sign-in (rate limit, lock-out, PBKDF2); or the ADMIN_TOKEN secret
 * (Bearer), which acts as an administrator with the admin role. One
 * authority: a viewer, whichever way it signed in, may only read (GET, HEAD).
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "GET" && c.req.method !== "HEAD") refuseCrossSite(c);
  const header = c.req.header("authorization") ?? "";
  const basic = /^Basic ([A-Za-z0-9+/=]{1,2000})$/i.exec(header)?.[1];
  const who = basic ? await administratorFrom(c, basic) : await tokenHolder(c, header);
  if (!mayChange(who) && c.req.method !== "GET" && c.req.method !== "HEAD") {
    throw new OAuthError(
      "access_denied",
      "This administrator has the viewer role and may only read.",
      { status: 403 },
    );
  }
  // Every admin action of the request names who did it (src/log.ts, the security events).
  await withActor(who.username, next);
};

/**
 * A change is never made for another site's page: a browser names where a
 * request comes from (Fetch Metadata's Sec-Fetch-Site, and Origin on every
 * cross-origin POST), and a script or curl sends neither. So even credentials
 * a browser holds (Basic, once typed) cannot be ridden by a cross-site form.
 */
function refuseCrossSite(c: Parameters<typeof requireAdmin>[0]): void {
  const site = c.req.header("sec-fetch-site");
  const origin = c.req.header("origin");
  const foreign =
    (site !== undefined && site !== "same-origin" && site !== "none") ||
    (origin !== undefined && origin !== new URL(c.req.url).origin);
  if (foreign)
    throw new OAuthError("access_denied", "The admin API takes no changes from another site.", {
      status: 403,
    });
}

async function tokenHolder(c: Parameters<typeof requireAdmin>[0], header: string) {
  const expected = adminToken(c.env);
  const presented = /^Bearer (.+)$/i.exec(header)?.[1];
  if (!presented)
    throw new OAuthError("invalid_token", "The admin API needs an administrator's credentials.", {
      headers: challenge,
    });
  if (!expected) {
    throw new OAuthError(
      "access_denied",
      "The admin token is disabled: set the ADMIN_TOKEN secret, or sign in as an administrator.",
      { status: 403 },
    );
  }
  // An operator-chosen token can be guessed at: failures count against the
  // address like failed client authentications, and each is a security event.
  if (clientAuthBlocked(c)) throw tooManyFailures();
  if (!(await isAdminToken(expected, presented))) {
    securityEvent("admin.auth_failed", { path: c.req.path });
    if (await noteClientAuthFailure(c)) throw tooManyFailures();
    throw new OAuthError("invalid_token", "The admin token is not valid.", { headers: challenge });
  }
  return ADMIN_TOKEN_ACTOR;
}

async function administratorFrom(
  c: Parameters<typeof requireAdmin>[0],
  encoded: string,
): Promise<Administrator> {
  let decoded = "";
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0)),
    );
  } catch {
    throw new OAuthError("invalid_token", "The Basic credentials cannot be read.", {
      headers: challenge,
    });
  }
  const colon = decoded.indexOf(":");
  const limited = await signInAdministrator(
    c,
    colon < 0 ? decoded : decoded.slice(0, colon),
    colon < 0 ? "" : decoded.slice(colon + 1),
    false,
  );
  if (limited.refused || limited.overLimit) throw tooManyFailures();
  const { result } = limited;
  if (result.ok) return result.administrator;
  securityEvent("admin.auth_failed", { path: c.req.path });
  if (result.reason === "locked")
    throw new OAuthError("invalid_token", "Too many failed attempts for this administrator.", {
      status: 429,
      headers: { ...challenge, "Retry-After": String(result.retryAfter) },
    });
  throw new OAuthError("invalid_token", "The administrator name or password is not valid.", {
    headers: challenge,
  });
}
