import type { Hono } from "hono";
import { OAuthError } from "../errors";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";
import {
  blockUser,
  createUserAccount,
  deleteUserAccount,
  findUser,
  findUserByName,
  revokeAllUserGrants,
  revokeOneUserGrant,
  setUserPassword,
  unblockUser,
  updateUserProfile,
  userGrants,
} from "../users/administration";
import { listUsers } from "../users/listing";

/**
 * /admin/users: list and search (src/users/listing.ts), create, read, update,
 * delete, set password, block, unblock, and a user's grants (list, revoke
 * one, revoke all). The rules live in src/users/administration.ts, which
 * the console uses too.
 */
export function adminUserRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/users", {
    POST: async (c) => c.json(await createUserAccount(c.env, await readJson(c.req.raw)), 201),
    GET: async (c) => {
      if (!("username" in c.req.queries())) return c.json(await listUsers(c.env, c.req.queries()));
      const username = c.req.query("username");
      if (!username || Object.keys(c.req.queries()).length > 1)
        throw new OAuthError(
          "invalid_request",
          "username: looks one user up, alone and not empty.",
        );
      return c.json(await findUserByName(c.env, username));
    },
  });
  endpoint(app, "/admin/users/:id", {
    GET: async (c) => c.json(await findUser(c.env, pathParam(c, "id"))),
    PATCH: async (c) =>
      c.json(await updateUserProfile(c.env, pathParam(c, "id"), await readJson(c.req.raw))),
    DELETE: async (c) => {
      await deleteUserAccount(c.env, c.get("config"), pathParam(c, "id"));
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/users/:id/password", {
    PUT: async (c) => {
      await setUserPassword(c.env, c.get("config"), pathParam(c, "id"), await readJson(c.req.raw));
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/users/:id/block", {
    POST: async (c) => c.json(await blockUser(c.env, c.get("config"), pathParam(c, "id"))),
  });
  endpoint(app, "/admin/users/:id/unblock", {
    POST: async (c) => c.json(await unblockUser(c.env, pathParam(c, "id"))),
  });
  endpoint(app, "/admin/users/:id/grants", {
    GET: async (c) => c.json({ grants: await userGrants(c.env, pathParam(c, "id")) }),
    DELETE: async (c) => c.json({ revoked: await revokeAllUserGrants(c.env, pathParam(c, "id")) }),
  });
  endpoint(app, "/admin/users/:id/grants/:grant", {
    DELETE: async (c) => {
      await revokeOneUserGrant(c.env, pathParam(c, "id"), pathParam(c, "grant"));
      return c.body(null, 204);
    },
  });
}
