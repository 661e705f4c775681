import type { Hono } from "hono";
import { LIMITS } from "../config";
import { OAuthError } from "../errors";
import type { AppContext, AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { mediaType, readForm } from "../http/form";
import { noStore } from "../http/no-store";
import { PATHS } from "../paths";
import { accessTokenStatus } from "../tokens/access-token";

const REALM = 'realm="edge-token-service"';

/** RFC 6750 §3: the challenge says what went wrong, in the header as well as the body. */
function bearerError(
  code: "invalid_token" | "insufficient_scope" | "invalid_request",
  description: string,
): OAuthError {
  const status = code === "invalid_token" ? 401 : code === "insufficient_scope" ? 403 : 400;
  return new OAuthError(code, description, {
    status,
    headers: {
      "WWW-Authenticate": `Bearer ${REALM}, error="${code}", error_description="${description}"`,
    },
  });
}

/** RFC 6750 §2.1 (header) or §2.2 (form body); never the query string (§2.3 is unsafe). */
async function bearerToken(c: AppContext): Promise<string | undefined> {
  const header = c.req.header("authorization");
  const fromBody =
    c.req.method === "POST" && mediaType(c.req.raw) === "application/x-www-form-urlencoded"
      ? (await readForm(c.req.raw, LIMITS.maxFormBytes)).get("access_token")
      : undefined;
  if (header !== undefined && fromBody !== undefined) {
    throw bearerError("invalid_request", "The access token was sent in more than one way.");
  }
  if (fromBody !== undefined) return fromBody;
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1])
    throw bearerError("invalid_request", "The Authorization header is not a Bearer token.");
  return match[1];
}

/** OIDC Core §5.3: the claims about the user that the token's scopes release. */
async function userinfo(c: AppContext) {
  const token = await bearerToken(c);
  if (!token) {
    // RFC 6750 §3.1: no credentials at all gets a bare challenge.
    throw new OAuthError("invalid_token", "An access token is required.", {
      status: 401,
      headers: { "WWW-Authenticate": `Bearer ${REALM}` },
    });
  }
  const status = await accessTokenStatus(c.env, c.get("config"), token);
  if (status.state === "invalid")
    throw bearerError("invalid_token", "The access token is invalid or has expired.");
  if (status.state !== "active")
    throw bearerError("invalid_token", "The access token has been revoked.");
  const { claims } = status;
  if (!claims.scope.includes("openid")) {
    throw bearerError("insufficient_scope", "The access token was not granted the openid scope.");
  }
  const profile = await c.env.USER.getByName(claims.sub).profile(claims.scope);
  if (!profile)
    throw bearerError("invalid_token", "The access token's user no longer exists or is blocked.");
  return c.json(profile);
}

export function userinfoRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.userinfo, { GET: [noStore, userinfo], POST: [noStore, userinfo] });
}
