import { audit, logError } from "../log";
import { type ClientRecord, clientKey } from "./model";

/**
 * "Clients never used expire" (issue #15): a client that registered itself
 * (RFC 7591, open or with the initial access token) and has obtained no
 * token REGISTERED_CLIENT_UNUSED_DAYS after registering is deleted, so that
 * open registration cannot fill the registry (and the consent pages) with
 * clients nobody uses. The client directory's alarm finds them (it knows
 * every client's registration time, and which clients have obtained a
 * token: ./usage.ts) and calls this for each.
 *
 * The registry's delete (./registry.ts `deleteClient`) cannot be called from
 * the directory, which it calls itself; this is the same delete, in its
 * order: the KV record first, then (by the caller) the directory row. The
 * record is read first and nothing is deleted when it is not what the
 * directory thought: no record (a row the admin listing repairs), or not a
 * self-registered client.
 */
export async function deleteUnusedClient(env: Env, clientId: string): Promise<boolean> {
  try {
    const record = await env.CLIENTS.get<ClientRecord>(clientKey(clientId), "json");
    const via = record?.registration?.via;
    if (via !== "open" && via !== "token") return false;
    await env.CLIENTS.delete(clientKey(clientId));
    audit("client.expired", { clientId, reason: "never_used" });
    return true;
  } catch (error) {
    // The registry cannot be read or written now: the next alarm tries again.
    logError("client_expiry_failed", error, { clientId });
    throw error;
  }
}
