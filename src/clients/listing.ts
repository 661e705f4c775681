import { encodeCursor, searchKey } from "../lib/directory-query";
import { type Listing, listQuery, type QueryValues } from "../lib/list-query";
import { logError } from "../log";
import {
  CLIENT_ORDERS,
  type ClientEntry,
  type ClientOrder,
  type ClientSummary,
  clientDirectory,
  clientEntry,
  type ListedClient,
} from "./directory";
import { readClient } from "./registry";

/**
 * The client list of GET /admin/clients?q=&by=&limit=&cursor= and of the
 * console's Applications page: lists clients from the client
 * directory, in order of name (or of client_id, `by=client_id`), those whose
 * name starts with `q` in any case (a client_id prefix: exactly, ids are
 * case-sensitive), `limit` at a time, with `next_cursor` when more follow.
 *
 *   listQuery → directory page → checkAgainstRegistry → (repair)
 *
 * Each listed row is read back from the registry (KV, the truth), so a page
 * shows each client as the registry has it now. A row the registry does not
 * confirm is what a crash between the two writes of saveClient or
 * deleteClient leaves (src/clients/registry.ts), or a write still on its way
 * through KV: a row written less than SETTLE_MS ago is shown as it is (KV
 * may not have reached this location yet, and may even remember the key as
 * missing for that long); an older one is repaired, dropped when its client
 * is gone and written again from the record when it differs.
 */

export interface ClientListPage {
  clients: ClientSummary[];
  next_cursor?: string;
}

const CLIENT_LISTING: Listing<ClientOrder> = {
  orders: CLIENT_ORDERS,
  prefixOf: { name: searchKey, client_id: (q) => q },
  // The longest client_id is 128 characters; a name has no such bound, but
  // a prefix longer than a page of text is not a search.
  maxQ: 200,
};

/** KV reaches every location within about 60 s; twice that, and a row is not a write in flight. */
const SETTLE_MS = 120_000;

const sameEntry = (a: ClientEntry, b: ClientEntry): boolean =>
  (Object.keys(a) as (keyof ClientEntry)[]).every((field) =>
    field === "grant_types" ? a[field].join(" ") === b[field].join(" ") : a[field] === b[field],
  );

/** `queries`: the listing's query string (`c.req.queries()`), checked by `listQuery`. */
export async function listClients(env: Env, queries: QueryValues): Promise<ClientListPage> {
  const query = listQuery(queries, CLIENT_LISTING);
  const directory = clientDirectory(env);
  const page = await directory.page(query);
  const records = await Promise.all(page.clients.map((row) => readClient(env, row.client_id)));
  const now = Date.now();
  const clients: ClientSummary[] = [];
  const gone: string[] = [];
  const changed: ClientEntry[] = [];
  page.clients.forEach((row, i) => {
    const { written_at, live_grants, ...listed } = row satisfies ListedClient;
    const record = records[i];
    const settled = now - written_at >= SETTLE_MS;
    if (!record) {
      if (settled) gone.push(row.client_id);
      else clients.push({ ...listed, live_grants });
      return;
    }
    const entry = clientEntry(record);
    if (sameEntry(entry, listed) || !settled) {
      clients.push({ ...(settled ? entry : listed), live_grants });
      return;
    }
    changed.push(entry);
    clients.push({ ...entry, live_grants });
  });
  if (gone.length > 0 || changed.length > 0) {
    try {
      await directory.repair(gone, changed);
    } catch (error) {
      // The next listing finds the same rows and tries again.
      logError("client_directory_repair_failed", error, { rows: gone.length + changed.length });
    }
  }
  return {
    clients,
    ...(page.next ? { next_cursor: encodeCursor(query.by, page.next) } : {}),
  };
}

/** How many live grants (families holding refresh tokens) a client has, as its families last reported. */
export const liveGrantsOf = (env: Env, clientId: string): Promise<number> =>
  clientDirectory(env).liveGrants(clientId);
