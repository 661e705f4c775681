import type { Hono } from "hono";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import {
  listSigningKeys,
  revokeSigningKeyNow,
  rotateSigningKeysNow,
} from "../tokens/key-administration";

/**
 * /admin/keys: the signing keys with their states (next, current, retiring,
 * revoked); a forced rotation; the revocation of a compromised key. The
 * rules live in src/tokens/key-administration.ts, which the console uses too.
 */
export function adminKeyRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/keys", {
    GET: async (c) => c.json({ keys: await listSigningKeys(c.env, c.get("config")) }),
  });
  endpoint(app, "/admin/keys/:kid/revoke", {
    POST: async (c) =>
      c.json(await revokeSigningKeyNow(c.env, c.get("config"), pathParam(c, "kid"))),
  });
  endpoint(app, "/admin/keys/rotate", {
    POST: async (c) => c.json(await rotateSigningKeysNow(c.env, c.get("config"))),
  });
}
