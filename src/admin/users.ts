import type { Hono } from "hono";
import { OAuthError } from "../errors";
import { revokeUserGrant } from "../families/gateway";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";
import {
  asObject,
  fieldError,
  optionalBoolean,
  optionalString,
  rejectUnknown,
} from "../lib/json-fields";
import { adminAction, currentRequestId } from "../log";
import { createUser } from "../users/accounts";
import { normalizeUsername, USERNAME } from "../users/model";
import { hashPassword, passwordProblem } from "../users/passwords";
import type { UserPatch } from "../users/user";
import { usernameObject } from "../users/username";
import { listUsers } from "./user-list";

/**
 * /admin/users: list and search (user-list.ts), create, read, update,
 * delete, set password, block, unblock, and a user's grants (list, revoke
 * one, revoke all). Users live in Durable Objects, so every change is exact
 * the moment the call returns; the list shows it then too (each User object
 * writes its row in the user directory before answering).
 */

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const notFound = () => new OAuthError("not_found", "There is no user with this id.");

function userStub(env: Env, id: string) {
  if (!USER_ID.test(id)) throw notFound();
  return env.USER.getByName(id);
}

function profileFields(body: Record<string, unknown>): UserPatch {
  const patch: UserPatch = {};
  if ("name" in body)
    patch.name = body.name === null ? null : (optionalString(body, "name") ?? null);
  if ("email" in body) {
    const email = body.email === null ? null : optionalString(body, "email", 320);
    if (email && !EMAIL.test(email)) throw fieldError("email", "must be an email address");
    patch.email = email ?? null;
  }
  const verified = optionalBoolean(body, "email_verified");
  if (verified !== undefined) patch.email_verified = verified;
  return patch;
}

async function newPassword(body: Record<string, unknown>) {
  const problem = passwordProblem(body.password);
  if (problem) throw fieldError("password", problem);
  return hashPassword(body.password as string);
}

export function adminUserRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/users", {
    POST: async (c) => {
      const body = asObject(await readJson(c.req.raw));
      rejectUnknown(body, ["username", "password", "name", "email", "email_verified"]);
      const raw = optionalString(body, "username", 64);
      if (!raw) throw fieldError("username", "is required");
      const username = normalizeUsername(raw);
      if (!USERNAME.test(username))
        throw fieldError("username", "may contain letters, digits and . _ @ + - only");
      const password = await newPassword(body);
      const profile = profileFields(body);
      const created = await createUser(c.env, {
        username,
        password,
        ...(profile.name ? { name: profile.name } : {}),
        ...(profile.email ? { email: profile.email } : {}),
        ...(profile.email_verified !== undefined ? { email_verified: profile.email_verified } : {}),
      });
      if (created === "taken")
        throw new OAuthError("invalid_request", "username: is already taken.", { status: 409 });
      adminAction("user.created", { sub: created.id });
      return c.json(created, 201);
    },
    GET: async (c) => {
      if (!("username" in c.req.queries())) return c.json(await listUsers(c));
      const username = c.req.query("username");
      if (!username || Object.keys(c.req.queries()).length > 1)
        throw new OAuthError(
          "invalid_request",
          "username: looks one user up, alone and not empty.",
        );
      const sub = await (await usernameObject(c.env, normalizeUsername(username))).owner();
      const view = sub ? await c.env.USER.getByName(sub).view() : undefined;
      if (!view) throw new OAuthError("not_found", "There is no user with this username.");
      return c.json(view);
    },
  });
  endpoint(app, "/admin/users/:id", {
    GET: async (c) => {
      const view = await userStub(c.env, pathParam(c, "id")).view();
      if (!view) throw notFound();
      return c.json(view);
    },
    PATCH: async (c) => {
      const body = asObject(await readJson(c.req.raw));
      rejectUnknown(body, ["name", "email", "email_verified"]);
      const view = await userStub(c.env, pathParam(c, "id")).update(
        profileFields(body),
        currentRequestId(),
      );
      if (!view) throw notFound();
      adminAction("user.updated", { sub: view.id });
      return c.json(view);
    },
    DELETE: async (c) => {
      // Frees the name too.
      const removed = await userStub(c.env, pathParam(c, "id")).remove(currentRequestId());
      if (!removed) throw notFound();
      adminAction("user.deleted", { sub: removed.sub });
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/users/:id/password", {
    PUT: async (c) => {
      const body = asObject(await readJson(c.req.raw));
      rejectUnknown(body, ["password"]);
      const revokeGrants = c.get("config").revokeGrantsOnPasswordChange;
      const user = userStub(c.env, pathParam(c, "id"));
      const changed = await user.setPassword(
        await newPassword(body),
        revokeGrants,
        currentRequestId(),
      );
      if (!changed) throw notFound();
      adminAction("user.password_set", { sub: pathParam(c, "id"), grantsRevoked: revokeGrants });
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/users/:id/block", {
    POST: async (c) => {
      const view = await userStub(c.env, pathParam(c, "id")).block(currentRequestId());
      if (!view) throw notFound();
      adminAction("user.blocked", { sub: view.id });
      return c.json(view);
    },
  });
  endpoint(app, "/admin/users/:id/unblock", {
    POST: async (c) => {
      const view = await userStub(c.env, pathParam(c, "id")).unblock(currentRequestId());
      if (!view) throw notFound();
      adminAction("user.unblocked", { sub: view.id });
      return c.json(view);
    },
  });
  endpoint(app, "/admin/users/:id/grants", {
    GET: async (c) => {
      const user = userStub(c.env, pathParam(c, "id"));
      if (!(await user.view())) throw notFound();
      return c.json({ grants: await user.grants() });
    },
    DELETE: async (c) => {
      const user = userStub(c.env, pathParam(c, "id"));
      if (!(await user.view())) throw notFound();
      const revoked = await user.revokeAll("admin", currentRequestId());
      adminAction("grants.revoked", { sub: pathParam(c, "id"), count: revoked });
      return c.json({ revoked });
    },
  });
  endpoint(app, "/admin/users/:id/grants/:grant", {
    DELETE: async (c) => {
      const grant = pathParam(c, "grant");
      if (!/^[0-9a-f]{64}$/.test(grant))
        throw new OAuthError("not_found", "There is no such grant.");
      const id = pathParam(c, "id");
      if (!USER_ID.test(id)) throw notFound();
      if (!(await revokeUserGrant(c.env, id, grant))) {
        throw new OAuthError("not_found", "There is no such live grant for this user.");
      }
      adminAction("grant.revoked", { sub: id, familyId: grant });
      return c.body(null, 204);
    },
  });
}
