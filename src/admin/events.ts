import type { Hono } from "hono";
import { listEvents } from "../events/listing";
import type { AppEnv } from "../http/context";
import { endpoint } from "../http/endpoint";

/**
 * GET /admin/events?sub=&client_id=&type=&limit=&cursor=: the stored
 * security events, newest first (the listing and its query checks:
 * src/events/listing.ts, which the console's Security events page uses too).
 */
export function adminEventRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/events", {
    GET: async (c) => c.json(await listEvents(c.env, c.req.queries())),
  });
}
