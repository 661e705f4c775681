import type { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { adminAction } from "../log";
import { rotateSigningKey } from "../tokens/keyring";

/** Forces a signing-key rotation now; old keys stay published while their tokens live. */
export function adminKeyRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/keys/rotate", {
    POST: async (c) => {
      const ring = await rotateSigningKey(c.env, c.get("config"));
      adminAction("signing_key.rotated", { kid: ring.kid });
      return c.json({ kid: ring.kid, published: ring.jwks.keys.map((k) => k.kid) });
    },
  });
}
