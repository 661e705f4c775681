import type { MiddlewareHandler } from "hono";
import { isDevelopment } from "../config";
import { OAuthError } from "../errors";
import type { AppEnv } from "../http/context";
import { clientAuthBlocked, noteClientAuthFailure, tooManyFailures } from "../http/rate-limits";
import { sha256, timingSafeEqual } from "../lib/bytes";
import { securityEvent } from "../log";

/** Known only to `wrangler dev`: a deployed worker has no admin API until ADMIN_TOKEN is set. */
export const DEVELOPMENT_ADMIN_TOKEN = "dev-admin-token";

const challenge = { "WWW-Authenticate": 'Bearer realm="admin"' };

/** The admin API is behind one bearer token, compared in constant time. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected =
    c.env.ADMIN_TOKEN || (isDevelopment(c.env) ? DEVELOPMENT_ADMIN_TOKEN : undefined);
  if (!expected) {
    throw new OAuthError(
      "access_denied",
      "The admin API is disabled: set the ADMIN_TOKEN secret to enable it.",
      {
        status: 403,
      },
    );
  }
  // An operator-chosen token can be guessed at: failures count against the
  // address like failed client authentications, and each is a security event.
  if (clientAuthBlocked(c)) throw tooManyFailures();
  const presented = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!presented)
    throw new OAuthError("invalid_token", "The admin API needs the admin bearer token.", {
      headers: challenge,
    });
  // Hashing first makes the comparison constant-time whatever the lengths.
  if (!timingSafeEqual(await sha256(presented), await sha256(expected))) {
    securityEvent("admin.auth_failed", { path: c.req.path });
    if (await noteClientAuthFailure(c)) throw tooManyFailures();
    throw new OAuthError("invalid_token", "The admin token is not valid.", { headers: challenge });
  }
  await next();
};
