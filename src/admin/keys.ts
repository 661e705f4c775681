import type { Hono } from "hono";
import { OAuthError } from "../errors";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { adminAction } from "../log";
import { revokeSigningKey, rotateSigningKey } from "../tokens/keyring";

/**
 * Forces a signing-key rotation now (old keys stay published while their
 * tokens live), or revokes a key (out of the JWKS and of verification now).
 */
export function adminKeyRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/keys/:kid/revoke", {
    POST: async (c) => {
      const kid = pathParam(c, "kid");
      const ring = /^[A-Za-z0-9_-]{1,64}$/.test(kid)
        ? await revokeSigningKey(c.env, c.get("config"), kid)
        : undefined;
      if (!ring) throw new OAuthError("not_found", "There is no signing key with this kid.");
      adminAction("signing_key.revoked", { kid });
      return c.json({ kid: ring.kid, published: ring.jwks.keys.map((k) => k.kid) });
    },
  });
  endpoint(app, "/admin/keys/rotate", {
    POST: async (c) => {
      const ring = await rotateSigningKey(c.env, c.get("config"));
      adminAction("signing_key.rotated", { kid: ring.kid });
      return c.json({ kid: ring.kid, published: ring.jwks.keys.map((k) => k.kid) });
    },
  });
}
