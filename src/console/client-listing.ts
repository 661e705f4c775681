import { listClients } from "../clients/registry";
import type { ConsoleContext } from "./context";
import type { ApplicationRow, ApplicationSearch } from "./views/applications";

/**
 * The applications list. TEMPORARY: the registry's KV listing, until the
 * client directory (GET /admin/clients with q, by, cursor and live_grants)
 * lands on main; then this reads the directory as the admin API does.
 */

const ORDERS = [
  { value: "name", label: "Name" },
  { value: "client_id", label: "client_id" },
] as const;

export interface ClientListing {
  rows: ApplicationRow[];
  search: ApplicationSearch;
  next?: string | undefined;
  status: number;
}

export async function clientPage(c: ConsoleContext): Promise<ClientListing> {
  const q = c.req.query("q") ?? "";
  const by = c.req.query("by") ?? "name";
  const page = await listClients(c.env, c.req.query("cursor"));
  const rows = page.clients.filter((row) =>
    by === "client_id"
      ? row.client_id.startsWith(q)
      : row.client_name.toLowerCase().startsWith(q.toLowerCase()),
  );
  return { rows, search: { q, by, orders: ORDERS }, next: page.cursor, status: 200 };
}

/** How many live grants a client has, when the directory counts them. */
export async function liveGrantsOf(
  _c: ConsoleContext,
  _clientId: string,
): Promise<number | undefined> {
  return undefined;
}
