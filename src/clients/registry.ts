import { isolateCacheSettings } from "../config";
import { OAuthError } from "../errors";
import { cachePerBinding } from "../lib/isolate-cache";
import { logError } from "../log";
import { clientDirectory, clientEntry } from "./directory";
import { type ClientRecord, clientKey as key } from "./model";

/**
 * The client registry, in KV: read on every token request, written by the
 * admin API and by self-registration (RFC 7591), each through saveClient
 * and deleteClient, which keep the client directory (./directory.ts, the
 * listing and search) in step before they return.
 *
 * Consistency: KV makes a change visible at once in the location that made
 * it and within about 60 seconds everywhere else. On top of that each isolate
 * reuses a record it read for CLIENT_CACHE_SECONDS (default 5): a deleted
 * client, a rotated secret or a changed policy takes effect in the isolate
 * that made the change at once, in the rest of that location within those
 * seconds, and elsewhere within about a minute more. See README,
 * "Consistency bounds".
 */

/** Client ids are ours (or the dev seed's): anything else cannot be registered. */
export const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** Enough for every client a location serves; unknown ids are never kept. */
const recent = cachePerBinding<Readonly<ClientRecord>>(1000);

/**
 * The client, as the hot paths see it: from this isolate's memory when it
 * was read less than CLIENT_CACHE_SECONDS ago, else from KV. Callers must
 * not change the record (it is frozen).
 */
export async function findClient(env: Env, clientId: string): Promise<ClientRecord | undefined> {
  if (!CLIENT_ID.test(clientId)) return undefined;
  const ttl = isolateCacheSettings(env).clientSeconds * 1000;
  const cache = recent(env.CLIENTS);
  const known = ttl > 0 ? cache.get(clientId) : undefined;
  if (known) return known;
  const client = await readClient(env, clientId);
  if (client && ttl > 0) cache.set(clientId, deepFreeze(client), Date.now() + ttl);
  return client;
}

/** The client as KV has it now, for the admin API (which must never act on a stale copy). */
export async function readClient(env: Env, clientId: string): Promise<ClientRecord | undefined> {
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Writes a client; this isolate forgets its old copy at once. The directory
 * row first, then the record: should the second write fail or never happen,
 * the row names a client KV does not have (or not in that version), which
 * the admin listing notices and repairs (src/clients/listing.ts); the
 * other order could leave a client that no listing ever shows. If the
 * directory cannot be written, nothing is, and the caller is told to retry.
 */
export async function saveClient(env: Env, client: ClientRecord): Promise<void> {
  try {
    await clientDirectory(env).put(clientEntry(client));
  } catch (error) {
    logError("client_directory_unwritable", error, { clientId: client.client_id });
    throw new OAuthError(
      "temporarily_unavailable",
      "The client directory cannot be written right now; retry shortly.",
      { headers: { "Retry-After": "5" } },
    );
  }
  await env.CLIENTS.put(key(client.client_id), JSON.stringify(client), {
    metadata: { client_name: client.client_name },
  });
  recent(env.CLIENTS).delete(client.client_id);
}

/**
 * Deletes a client: the record first, then its directory row (the same rule
 * as saveClient: at worst a row without a client, which the listing drops).
 * The client is gone once the record is; a row left behind is not a reason
 * to report a failure.
 */
export async function deleteClient(env: Env, clientId: string): Promise<boolean> {
  if (!(await readClient(env, clientId))) return false;
  await env.CLIENTS.delete(key(clientId));
  recent(env.CLIENTS).delete(clientId);
  try {
    await clientDirectory(env).remove(clientId);
  } catch (error) {
    logError("client_directory_unwritable", error, { clientId });
  }
  return true;
}
