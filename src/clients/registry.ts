import type { Env } from "../env";
import { OAuthError } from "../errors";
import { logError } from "../log";
import type { ClientRecord } from "./model";

/**
 * The client registry, in KV: read on every token request, written only by
 * the admin API.
 *
 * Consistency: a change is visible at once in the location that made it and
 * within about 60 seconds everywhere else (KV's propagation and edge cache).
 * So a deleted client, or a rotated secret, can go on working for up to a
 * minute in other locations; see README, "Client registry consistency".
 */

const key = (clientId: string) => `client:${clientId}`;

/** Client ids are ours (or the dev seed's): anything else cannot be registered. */
export const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

export async function findClient(env: Env, clientId: string): Promise<ClientRecord | undefined> {
  if (!CLIENT_ID.test(clientId)) return undefined;
  try {
    return (await env.CLIENTS.get<ClientRecord>(key(clientId), "json")) ?? undefined;
  } catch (error) {
    // An outage, not a verdict on the client: say so, and let the caller retry.
    logError("client_registry_unreadable", error);
    throw new OAuthError(
      "temporarily_unavailable",
      "The client registry cannot be read right now; retry shortly.",
      {
        headers: { "Retry-After": "5" },
      },
    );
  }
}

export async function saveClient(env: Env, client: ClientRecord): Promise<void> {
  await env.CLIENTS.put(key(client.client_id), JSON.stringify(client), {
    metadata: { client_name: client.client_name },
  });
}

export async function deleteClient(env: Env, clientId: string): Promise<boolean> {
  if (!(await findClient(env, clientId))) return false;
  await env.CLIENTS.delete(key(clientId));
  return true;
}

export interface ClientPage {
  clients: { client_id: string; client_name: string }[];
  cursor?: string;
}

/** The admin list: one KV list call a page, names from the key metadata. */
export async function listClients(env: Env, cursor?: string, limit = 100): Promise<ClientPage> {
  const page = await env.CLIENTS.list<{ client_name: string }>({
    prefix: "client:",
    limit,
    ...(cursor ? { cursor } : {}),
  });
  return {
    clients: page.keys.map((k) => ({
      client_id: k.name.slice("client:".length),
      client_name: k.metadata?.client_name ?? "",
    })),
    ...(page.list_complete ? {} : { cursor: page.cursor }),
  };
}
