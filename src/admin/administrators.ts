import type { Hono } from "hono";
import {
  changeAdministratorRole,
  createAdministrator,
  listAdministrators,
  removeAdministrator,
  setAdministratorPassword,
} from "../administrators/accounts";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";

/**
 * /admin/administrators: the people who may use this API and the console,
 * each with a role (admin: change; viewer: look). The rules live in
 * src/administrators/accounts.ts, which the console uses too.
 */
export function adminAdministratorRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/administrators", {
    GET: async (c) => c.json({ administrators: await listAdministrators(c.env) }),
    POST: async (c) => c.json(await createAdministrator(c.env, await readJson(c.req.raw)), 201),
  });
  endpoint(app, "/admin/administrators/:name", {
    PATCH: async (c) =>
      c.json(await changeAdministratorRole(c.env, pathParam(c, "name"), await readJson(c.req.raw))),
    DELETE: async (c) => {
      await removeAdministrator(c.env, pathParam(c, "name"));
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/administrators/:name/password", {
    PUT: async (c) => {
      await setAdministratorPassword(c.env, pathParam(c, "name"), await readJson(c.req.raw));
      return c.body(null, 204);
    },
  });
}
