import type { Hono } from "hono";
import { authenticateClient } from "../clients/authentication";
import { LIMITS } from "../config";
import { familyStub } from "../families/stub";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readForm } from "../http/form";
import { noStore } from "../http/no-store";
import { audit } from "../log";
import { noteFamilyRevoked, revokeAccessTokenId } from "../revocation/lists";
import { readAccessToken } from "../tokens/access-token";
import { claimedKind, decodeFamilyToken, secretHash } from "../tokens/family-token";
import { serverKeys } from "../server-keys";
import { PATHS } from "./discovery";

/**
 * Token revocation (RFC 7009). A refresh token revokes its whole family (and
 * so every access token of it); an access token revokes itself until it
 * expires. Only the client a token was issued to can revoke it. Whatever the
 * outcome (unknown, invalid, someone else's token) the answer is 200 (§2.2),
 * so the endpoint tells nobody anything about tokens they do not hold.
 */
export function revokeRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.revocation, {
    POST: [
      noStore,
      async (c) => {
        const config = c.get("config");
        const params = await readForm(c.req.raw, LIMITS.maxFormBytes);
        const client = await authenticateClient({
          env: c.env,
          config,
          request: c.req.raw,
          params,
          endpointUrl: `${config.issuer}${PATHS.revocation}`,
        });
        const token = params.require("token");
        // token_type_hint (§2.1) is accepted but never trusted: our tokens say
        // what they are (a refresh token's prefix, or a JWT), and each kind is
        // checked cryptographically, so a wrong hint changes nothing.
        const kind = claimedKind(token);
        if (kind === "refresh_token") {
          const decoded = await decodeFamilyToken(
            token,
            "refresh_token",
            (await serverKeys(c.env)).tokenTag,
          );
          const family = decoded && familyStub(c.env, decoded.familyId);
          if (decoded && family) {
            const revoked = await family.revokeWithToken({
              clientId: client.client_id,
              presented: { generation: decoded.generation, hash: await secretHash(decoded.secret) },
            });
            if (revoked) noteFamilyRevoked(c.env, decoded.familyId);
          }
        } else if (kind === undefined) {
          const claims = await readAccessToken(c.env, config, token);
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
      },
    ],
  });
}
