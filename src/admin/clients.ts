import type { Hono } from "hono";
import {
  createClient,
  findClientView,
  removeClient,
  rotateClientSecret,
  updateClient,
} from "../clients/administration";
import { listClients } from "../clients/listing";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";

/**
 * /admin/clients: create, read, list, update, delete, rotate secret. The
 * rules live in src/clients/administration.ts, which the console uses too.
 */
export function adminClientRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/clients", {
    GET: async (c) => c.json(await listClients(c.env, c.req.queries())),
    POST: async (c) =>
      c.json(await createClient(c.env, c.get("config"), await readJson(c.req.raw)), 201),
  });
  endpoint(app, "/admin/clients/:id", {
    GET: async (c) => c.json(await findClientView(c.env, pathParam(c, "id"))),
    PATCH: async (c) =>
      c.json(
        await updateClient(c.env, c.get("config"), pathParam(c, "id"), await readJson(c.req.raw)),
      ),
    DELETE: async (c) => {
      await removeClient(c.env, pathParam(c, "id"));
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/clients/:id/secret", {
    POST: async (c) => c.json(await rotateClientSecret(c.env, pathParam(c, "id"))),
  });
}
