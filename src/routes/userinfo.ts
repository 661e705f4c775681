import type { Hono } from "hono";
import { authorizedAccess, resourceError } from "../http/access-token-request";
import type { AppContext, AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { noStore } from "../http/no-store";
import { endpointUrl } from "../http/origin";
import { PATHS } from "../paths";

/** OIDC Core §5.3: the claims about the user that the token's scopes release. */
async function userinfo(c: AppContext) {
  const config = c.get("config");
  const claims = await authorizedAccess(c, endpointUrl(config, c.req.url, PATHS.userinfo));
  const scheme = claims.cnf?.jkt ? "DPoP" : "Bearer";
  // RFC 9068 §4: "The resource server MUST validate that the aud claim
  // contains a resource indicator value corresponding to an identifier the
  // resource server expects for itself." Userinfo is ours: the issuer, or the
  // default audience a token gets when it names no resource. A token for a
  // registered API (RFC 8707) means that API only.
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(config.issuer) && !audiences.includes(config.defaultAudience)) {
    throw resourceError(
      scheme,
      "invalid_token",
      "The access token is for another audience (resource) than this userinfo endpoint.",
    );
  }
  if (!claims.scope.includes("openid")) {
    throw resourceError(
      scheme,
      "insufficient_scope",
      "The access token was not granted the openid scope.",
    );
  }
  const profile = await c.env.USER.getByName(claims.sub).profile(claims.scope);
  if (!profile) {
    throw resourceError(
      scheme,
      "invalid_token",
      "The access token's user no longer exists or is blocked.",
    );
  }
  return c.json(profile);
}

export function userinfoRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.userinfo, { GET: [noStore, userinfo], POST: [noStore, userinfo] });
}
