import type { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";
import { PATHS } from "../paths";
import { keyRing } from "../tokens/keyring";

/** The public signing keys (RFC 7517), current and still-needed ones. */
export function jwksRoutes(app: Hono<AppEnv>): void {
  endpoint(app, PATHS.jwks, {
    GET: async (c) => {
      const ring = await keyRing(c.env, c.get("config"));
      // Short enough that a new key is seen well before it starts signing.
      return c.json(ring.jwks, 200, { "Cache-Control": "public, max-age=300" });
    },
  });
}
