import type { Hono } from "hono";
import { revokeWithRefreshToken } from "../families/gateway";
import type { AppEnv, StepContext } from "../http/context";
import { endpoint } from "../http/endpoint";
import { noStore } from "../http/no-store";
import { authenticateClient, parseForm, type WithClient } from "../http/steps";
import { audit } from "../log";
import { PATHS } from "../paths";
import { revokeAccessTokenId } from "../revocation/lists";
import { readAccessToken } from "../tokens/access-token";
import { claimedKind } from "../tokens/family-token";

/**
 * RFC 7009 §2.1: "The authorization server first validates the client
 * credentials ... and then verifies whether the token was issued to the
 * client making the revocation request." A refresh token revokes its whole
 * family (and so every access token of it); an access token revokes itself
 * until it expires. Whatever the outcome (unknown, invalid, someone else's
 * token) the answer is 200 (§2.2), so the endpoint tells nobody anything
 * about tokens they do not hold.
 */
async function revokeToken(c: StepContext<WithClient>): Promise<Response> {
  const client = c.get("client");
  const token = c.get("params").require("token");
  // token_type_hint (§2.1) is accepted but never trusted: our tokens say
  // what they are (a refresh token's prefix, or a JWT), and each kind is
  // checked cryptographically, so a wrong hint changes nothing.
  const kind = claimedKind(token);
  if (kind === "refresh_token") {
    await revokeWithRefreshToken(c.env, token, client.client_id);
  } else if (kind === undefined) {
    const claims = await readAccessToken(c.env, c.get("config"), token);
    if (claims && claims.client_id === client.client_id) {
      await revokeAccessTokenId(c.env, claims.jti, claims.exp);
      audit("access_token.revoked", {
        jti: claims.jti,
        clientId: client.client_id,
        sub: claims.sub,
      });
    }
  }
  return c.body(null, 200);
}

export function revokeRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.revocation, {
    POST: [noStore, parseForm(), authenticateClient("revocation"), revokeToken],
  });
}
