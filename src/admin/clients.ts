import type { Hono } from "hono";
import { certificateThumbprints } from "../clients/certificates";
import type { ClientCredential, ClientRecord } from "../clients/model";
import { deleteClient, listClients, readClient, saveClient } from "../clients/registry";
import { generateClientSecret, hashClientSecret, sealClientSecret } from "../clients/secrets";
import { type ClientDraft, clientView, validateClient } from "../clients/validation";
import { OAuthError } from "../errors";
import { type AppEnv, pathParam } from "../http/context";
import { endpoint } from "../http/endpoint";
import { randomBytes, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { adminAction } from "../log";
import { serverKeys } from "../server-keys";
import { readJson } from "./body";

/**
 * /admin/clients: create, read, list, update, delete, rotate secret. A secret
 * is generated here, shown once in the response that creates or rotates it,
 * and stored only as a hash (or sealed, for client_secret_jwt).
 */

const notFound = () => new OAuthError("not_found", "There is no client with this client_id.");

/** The credential for a method, with a new secret when the method needs one. */
async function credentialFor(
  env: Env,
  draft: ClientDraft,
  previous?: ClientCredential,
): Promise<{ credential: ClientCredential; secret?: string }> {
  if (draft.method === "none") return { credential: { method: "none" } };
  if (draft.method === "private_key_jwt")
    return { credential: { method: "private_key_jwt", jwks: draft.jwks } };
  if (draft.method === "tls_client_auth")
    return { credential: { method: "tls_client_auth", subjectDn: draft.subjectDn } };
  if (draft.method === "self_signed_tls_client_auth") {
    const thumbprints = await certificateThumbprints(draft.jwks);
    return { credential: { method: draft.method, jwks: draft.jwks, thumbprints } };
  }
  const method = draft.method;
  // Basic and post store the same hash, so switching between them keeps the secret.
  if (
    (method === "client_secret_basic" || method === "client_secret_post") &&
    previous &&
    "secretHash" in previous
  ) {
    return { credential: { method, secretHash: previous.secretHash } };
  }
  if (method === "client_secret_jwt" && previous?.method === "client_secret_jwt")
    return { credential: previous };
  return newSecretCredential(env, method);
}

async function newSecretCredential(
  env: Env,
  method: "client_secret_basic" | "client_secret_post" | "client_secret_jwt",
): Promise<{ credential: ClientCredential; secret: string }> {
  const secret = generateClientSecret();
  if (method === "client_secret_jwt") {
    return {
      credential: {
        method,
        sealedSecret: await sealClientSecret(secret, (await serverKeys(env)).clientSecret),
      },
      secret,
    };
  }
  return { credential: { method, secretHash: await hashClientSecret(secret) }, secret };
}

function record(
  draft: ClientDraft,
  clientId: string,
  credential: ClientCredential,
  createdAt: number,
): ClientRecord {
  const { method: _method, jwks: _jwks, subjectDn: _subjectDn, ...rest } = draft;
  return {
    client_id: clientId,
    ...rest,
    credential,
    created_at: createdAt,
    updated_at: nowSeconds(),
  };
}

export function adminClientRoutes(app: Hono<AppEnv>): void {
  endpoint(app, "/admin/clients", {
    GET: async (c) => c.json(await listClients(c.env, c.req.query("cursor"))),
    POST: async (c) => {
      const draft = validateClient(await readJson(c.req.raw), c.get("config"));
      const clientId = toBase64Url(randomBytes(16));
      const { credential, secret } = await credentialFor(c.env, draft);
      const client = record(draft, clientId, credential, nowSeconds());
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
      const client = record(draft, existing.client_id, credential, existing.created_at);
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
