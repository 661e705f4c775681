import type { Hono } from "hono";
import { clientRecord, credentialFor, newSecretCredential } from "../clients/provisioning";
import { deleteClient, readClient, saveClient } from "../clients/registry";
import { clientView, validateClient } from "../clients/validation";
import { OAuthError } from "../errors";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { readJson } from "../http/json-body";
import { randomBytes, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { adminAction } from "../log";
import { listClients } from "./client-list";

/**
 * /admin/clients: create, read, list, update, delete, rotate secret. A secret
 * is generated (src/clients/provisioning.ts), shown once in the response that
 * creates or rotates it, and stored only as a hash (or sealed, for
 * client_secret_jwt).
 */

const notFound = () => new OAuthError("not_found", "There is no client with this client_id.");

export function adminClientRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/clients", {
    GET: async (c) => c.json(await listClients(c)),
    POST: async (c) => {
      const draft = validateClient(await readJson(c.req.raw), c.get("config"));
      const clientId = toBase64Url(randomBytes(16));
      const { credential, secret } = await credentialFor(c.env, draft);
      const now = nowSeconds();
      const client = clientRecord(draft, clientId, credential, { createdAt: now, updatedAt: now });
      await saveClient(c.env, client);
      adminAction("client.created", { clientId });
      return c.json({ ...clientView(client), ...(secret ? { client_secret: secret } : {}) }, 201);
    },
  });
  endpoint(app, "/admin/clients/:id", {
    GET: async (c) => {
      const client = await readClient(c.env, pathParam(c, "id"));
      if (!client) throw notFound();
      return c.json(clientView(client));
    },
    PATCH: async (c) => {
      const existing = await readClient(c.env, pathParam(c, "id"));
      if (!existing) throw notFound();
      const draft = validateClient(await readJson(c.req.raw), c.get("config"), existing);
      const { credential, secret } = await credentialFor(c.env, draft, existing.credential);
      // A self-registered client stays marked as one, whatever an administrator changes.
      const client = clientRecord(
        draft,
        existing.client_id,
        credential,
        { createdAt: existing.created_at, updatedAt: nowSeconds() },
        existing.registration,
      );
      await saveClient(c.env, client);
      adminAction("client.updated", { clientId: client.client_id });
      return c.json({ ...clientView(client), ...(secret ? { client_secret: secret } : {}) });
    },
    DELETE: async (c) => {
      const clientId = pathParam(c, "id");
      if (!(await deleteClient(c.env, clientId))) throw notFound();
      adminAction("client.deleted", { clientId });
      return c.body(null, 204);
    },
  });
  endpoint(app, "/admin/clients/:id/secret", {
    POST: async (c) => {
      const client = await readClient(c.env, pathParam(c, "id"));
      if (!client) throw notFound();
      const method = client.credential.method;
      if (
        method !== "client_secret_basic" &&
        method !== "client_secret_post" &&
        method !== "client_secret_jwt"
      ) {
        throw new OAuthError(
          "invalid_request",
          `A client using ${method} has no secret to rotate.`,
        );
      }
      const { credential, secret } = await newSecretCredential(c.env, method);
      await saveClient(c.env, { ...client, credential, updated_at: nowSeconds() });
      adminAction("client.secret_rotated", { clientId: client.client_id });
      return c.json({ client_id: client.client_id, client_secret: secret });
    },
  });
}
