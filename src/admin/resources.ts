import type { Hono } from "hono";
import { OAuthError } from "../errors";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";
import { nowSeconds } from "../lib/time";
import { adminAction } from "../log";
import { resourceMetadata } from "../resources/metadata";
import { deleteResource, listResources, readResource, saveResource } from "../resources/registry";
import { resourceView, validateResource } from "../resources/validation";

/**
 * /admin/resources: register the APIs tokens may be issued for (RFC 8707).
 * A resource is addressed by its identifier, percent-encoded as one path
 * segment: /admin/resources/https%3A%2F%2Fapi.example.com%2F.
 * /admin/resources/:identifier/metadata is the RFC 9728 document the API
 * should publish, for APIs not built on our resource-server module.
 */

const notFound = () => new OAuthError("not_found", "There is no resource with this identifier.");

export function adminResourceRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/resources", {
    GET: async (c) => c.json(await listResources(c.env, c.req.query("cursor"))),
    POST: async (c) => {
      const draft = validateResource(await readJson(c.req.raw));
      if (await readResource(c.env, draft.identifier)) {
        throw new OAuthError("invalid_request", "identifier: is already registered.", {
          status: 409,
        });
      }
      const now = nowSeconds();
      const resource = { ...draft, created_at: now, updated_at: now };
      await saveResource(c.env, resource);
      adminAction("resource.created", { resource: resource.identifier });
      return c.json(resourceView(resource), 201);
    },
  });
  endpoint(app, "/admin/resources/:identifier", {
    GET: async (c) => {
      const resource = await readResource(c.env, pathParam(c, "identifier"));
      if (!resource) throw notFound();
      return c.json(resourceView(resource));
    },
    PATCH: async (c) => {
      const existing = await readResource(c.env, pathParam(c, "identifier"));
      if (!existing) throw notFound();
      const draft = validateResource(await readJson(c.req.raw), existing);
      const resource = { ...draft, created_at: existing.created_at, updated_at: nowSeconds() };
      await saveResource(c.env, resource);
      adminAction("resource.updated", { resource: resource.identifier });
      return c.json(resourceView(resource));
    },
    DELETE: async (c) => {
      const identifier = pathParam(c, "identifier");
      if (!(await deleteResource(c.env, identifier))) throw notFound();
      adminAction("resource.deleted", { resource: identifier });
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/resources/:identifier/metadata", {
    GET: async (c) => {
      const resource = await readResource(c.env, pathParam(c, "identifier"));
      if (!resource) throw notFound();
      return c.json(resourceMetadata(resource, c.get("config").issuer));
    },
  });
}
