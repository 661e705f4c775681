import type { ProviderConfig } from "../config";
import { OAuthError } from "../errors";
import { randomBytes, toBase64Url } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { adminAction } from "../log";
import { clientDirectory } from "./directory";
import { clientRecord, credentialFor, newSecretCredential } from "./provisioning";
import { deleteClient, readClient, saveClient } from "./registry";
import { type ClientView, clientView, validateClient } from "./validation";

/**
 * What an administrator may do to a client, whichever surface asks: the admin
 * JSON API (src/admin/clients.ts) and the console (src/console/) call these
 * and nothing else, so every rule (validation, secrets, the audit event)
 * exists once. Each takes the body in the admin API's JSON shape; the
 * console turns its form into that shape first.
 *
 * A secret is generated (provisioning.ts), returned once (to be shown once)
 * and stored only as a hash (or sealed, for client_secret_jwt).
 */

/** A client as shown, and its new secret when the change made one. */
export type ClientChange = ClientView & { client_secret?: string };

const notFound = () => new OAuthError("not_found", "There is no client with this client_id.");

export async function findClientView(env: Env, clientId: string): Promise<ClientView> {
  const client = await readClient(env, clientId);
  if (!client) throw notFound();
  return clientView(client);
}

export async function createClient(
  env: Env,
  config: ProviderConfig,
  body: unknown,
): Promise<ClientChange> {
  const draft = validateClient(body, config);
  const clientId = toBase64Url(randomBytes(16));
  const { credential, secret } = await credentialFor(env, draft);
  const now = nowSeconds();
  const client = clientRecord(draft, clientId, credential, { createdAt: now, updatedAt: now });
  await saveClient(env, client);
  adminAction("client.created", { clientId });
  return { ...clientView(client), ...(secret ? { client_secret: secret } : {}) };
}

export async function updateClient(
  env: Env,
  config: ProviderConfig,
  clientId: string,
  body: unknown,
): Promise<ClientChange> {
  const existing = await readClient(env, clientId);
  if (!existing) throw notFound();
  const draft = validateClient(body, config, existing);
  const { credential, secret } = await credentialFor(env, draft, existing.credential);
  // A self-registered client stays marked as one, whatever an administrator changes.
  const client = clientRecord(
    draft,
    existing.client_id,
    credential,
    { createdAt: existing.created_at, updatedAt: nowSeconds() },
    existing.registration,
  );
  await saveClient(env, client);
  // A self-registered client an administrator has changed is adopted: it no longer expires as
  // unused (./expiry.ts), whether or not it ever obtains a token (a resource server may not).
  if (existing.registration) await clientDirectory(env).noteUse(client.client_id);
  adminAction("client.updated", { clientId: client.client_id });
  return { ...clientView(client), ...(secret ? { client_secret: secret } : {}) };
}

export async function removeClient(env: Env, clientId: string): Promise<void> {
  if (!(await deleteClient(env, clientId))) throw notFound();
  adminAction("client.deleted", { clientId });
}

export async function rotateClientSecret(
  env: Env,
  clientId: string,
): Promise<{ client_id: string; client_secret: string }> {
  const client = await readClient(env, clientId);
  if (!client) throw notFound();
  const method = client.credential.method;
  if (
    method !== "client_secret_basic" &&
    method !== "client_secret_post" &&
    method !== "client_secret_jwt"
  ) {
    throw new OAuthError("invalid_request", `A client using ${method} has no secret to rotate.`);
  }
  const { credential, secret } = await newSecretCredential(env, method);
  await saveClient(env, { ...client, credential, updated_at: nowSeconds() });
  adminAction("client.secret_rotated", { clientId: client.client_id });
  return { client_id: client.client_id, client_secret: secret };
}
