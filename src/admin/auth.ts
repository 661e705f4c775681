import type { MiddlewareHandler } from "hono";
import { adminToken, isAdminToken } from "../administrators/admin-token";
import { ADMIN_TOKEN_ACTOR, type Administrator, mayChange } from "../administrators/model";
import { OAuthError } from "../errors";
import { signInAdministrator } from "../http/administrator-sign-in";
import type { AppEnv } from "../http/context";
import { clientAuthBlocked, noteClientAuthFailure, tooManyFailures } from "../http/rate-limits";
import { securityEvent, withActor } from "../log";

/** RFC 9110 §11.6.1: both schemes this API takes, each with its realm. */
const challenge = {
  "WWW-Authenticate": 'Bearer realm="admin", Basic realm="admin", charset="UTF-8"',
};

/**
 * Who may call the admin API (README, "Administrators"): an administrator
 * with their own name and password (HTTP Basic, RFC 7617), checked like a
 * console sign-in (rate limit, lock-out, PBKDF2); or the ADMIN_TOKEN secret
 * (Bearer), which acts as an administrator with the admin role. One
 * authority: a viewer, whichever way it signed in, may only read (GET, HEAD).
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
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
