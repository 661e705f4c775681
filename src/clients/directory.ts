import { DurableObject } from "cloudflare:workers";
import { registeredClientUnusedDays } from "../config";
import { inObjectCall } from "../events/recorder";
import {
  type DirectoryPosition,
  type DirectoryQuery,
  type DirectoryTable,
  readPage,
  searchKey,
} from "../lib/directory-query";
import { alarmRequestId } from "../log";
import { deleteUnusedClient } from "./expiry";
import type { AuthMethod, ClientRecord, GrantType } from "./model";

/**
 * The client directory: one SQLite-backed Durable Object (a single instance,
 * `clientDirectory(env)`) with a row per registered client, made for listing
 * and search, which the KV registry cannot answer (a KV list is in key order
 * only, with no search).
 *
 * It is a copy: KV is the truth about each client. Every writer of the
 * registry (src/clients/registry.ts) writes the row first and the record
 * second, and deletes the record first and the row second, so a crash
 * between the two leaves at worst a row without a client, never a client
 * without a row; the admin listing finds such a row and repairs it
 * (src/clients/listing.ts). Token requests never read it.
 *
 * It also counts each client's live grants (families holding refresh
 * tokens), from notes the TokenFamily objects send off the request path
 * (src/families/grant-note.ts), and remembers which clients have ever
 * obtained a token (`client_uses`, from those notes and from the token
 * endpoint: ./usage.ts), so that its alarm can delete the self-registered
 * clients that never did (./expiry.ts).
 */

export const CLIENT_ORDERS = ["name", "client_id"] as const;
export type ClientOrder = (typeof CLIENT_ORDERS)[number];
export type ClientQuery = DirectoryQuery<ClientOrder>;

/** What the directory shows of a client: never a secret, a key or a redirect URI. */
export interface ClientSummary {
  client_id: string;
  client_name: string;
  client_type: "confidential" | "public";
  token_endpoint_auth_method: AuthMethod;
  grant_types: GrantType[];
  self_registered: boolean;
  created_at: number;
  updated_at: number;
  /**
   * The client's grants (families) that hold refresh tokens, as last
   * reported by them: it may lag a change by a moment (see grant-note.ts).
   */
  live_grants: number;
}

/** A summary as the directory stores it (live_grants is counted apart), and when it wrote it. */
export type ClientEntry = Omit<ClientSummary, "live_grants">;
export interface ListedClient extends ClientSummary {
  /** When the directory wrote this row (ms): the listing trusts a young row over a KV miss. */
  written_at: number;
}

export interface ClientDirectoryPage {
  clients: ListedClient[];
  next?: DirectoryPosition;
}

/** The row a client implies. */
export function clientEntry(client: ClientRecord): ClientEntry {
  const method = client.credential.method;
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    client_type: method === "none" ? "public" : "confidential",
    token_endpoint_auth_method: method,
    grant_types: [...client.grant_types],
    self_registered: client.registration !== undefined,
    created_at: client.created_at,
    updated_at: client.updated_at,
  };
}

/** The name of the one instance. */
const INSTANCE = "directory";

export const clientDirectory = (env: Env) => env.CLIENT_DIRECTORY.getByName(INSTANCE);

/** How long an ended grant's row outlives it: far longer than a late note can be in flight. */
const ENDED_MS = 86_400_000;

/**
 * `name_key` is the client name's search key (`searchKey`), indexed with the
 * id for the name order; the id order is the primary key. `grants` has a row
 * per family ever reported: live, or ended (kept a day, so that a late "it
 * started" note cannot count an ended family again); `grant_counts` keeps
 * each client's live ones, so a page reads one number per client, not an
 * index range as long as its grants.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  client_id TEXT PRIMARY KEY,
  client_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  client_type TEXT NOT NULL,
  auth_method TEXT NOT NULL,
  grant_types TEXT NOT NULL,
  self_registered INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  written_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clients_by_name ON clients (name_key, client_id);
CREATE TABLE IF NOT EXISTS grants (
  family_id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  live INTEGER NOT NULL,
  changed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS grants_ended ON grants (live, changed_at);
CREATE TABLE IF NOT EXISTS grant_counts (client_id TEXT PRIMARY KEY, live INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clients_self_registered ON clients (self_registered, created_at);
`;

/**
 * `client_uses` has a row per client that has obtained a token, from the
 * first note of it on. Made after the directory existed: the clients it holds
 * when the table is first made were never watched, so they count as used
 * (first_used_at 0) rather than as never used.
 */
const USES_SCHEMA = `
CREATE TABLE client_uses (client_id TEXT PRIMARY KEY, first_used_at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO client_uses SELECT client_id, 0 FROM clients;
`;

/** How many unused clients one alarm deletes (each a KV read and delete); more wait a second. */
const SWEEP_BATCH = 50;

/** The table and its orders, for the shared page statement (src/lib/directory-query.ts). */
export const CLIENT_TABLE: DirectoryTable<ClientOrder> = {
  table: "clients",
  id: "client_id",
  keys: { name: "name_key", client_id: "client_id" },
};

interface Row {
  client_id: string;
  client_name: string;
  name_key: string;
  client_type: string;
  auth_method: string;
  grant_types: string;
  self_registered: number;
  created_at: number;
  updated_at: number;
  written_at: number;
  // SqlStorageCursor rows are records of SQL values.
  [column: string]: SqlStorageValue;
}

export class ClientDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
    const uses = ctx.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'client_uses'")
      .toArray();
    if (uses.length === 0) ctx.storage.transactionSync(() => ctx.storage.sql.exec(USES_SCHEMA));
  }

  /**
   * Writes a client's row (the last write wins: the registry's writers order
   * themselves), and for a self-registered client makes sure the alarm will
   * look at it when it would expire unused.
   */
  async put(entry: ClientEntry): Promise<void> {
    this.write(entry);
    if (entry.self_registered) await this.sweepBy(entry.created_at);
  }

  private write(entry: ClientEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO clients (client_id, client_name, name_key, client_type, auth_method,
         grant_types, self_registered, created_at, updated_at, written_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      entry.client_id,
      entry.client_name,
      searchKey(entry.client_name),
      entry.client_type,
      entry.token_endpoint_auth_method,
      entry.grant_types.join(" "),
      entry.self_registered ? 1 : 0,
      entry.created_at,
      entry.updated_at,
      Date.now(),
    );
  }

  /**
   * Removes a client's row. Its grants' rows stay: its families end on
   * their own (a refresh of a deleted client is refused, and they expire),
   * and each reports its end.
   */
  remove(clientId: string): void {
    this.ctx.storage.sql.exec("DELETE FROM clients WHERE client_id = ?", clientId);
    this.ctx.storage.sql.exec("DELETE FROM client_uses WHERE client_id = ?", clientId);
  }

  /** What the listing found stale: rows to drop, entries to write again. */
  repair(gone: string[], changed: ClientEntry[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const clientId of gone) this.remove(clientId);
      for (const entry of changed) this.write(entry);
    });
  }

  page(query: ClientQuery): ClientDirectoryPage {
    const sql = this.ctx.storage.sql;
    const { rows, next } = readPage<ClientOrder, Row>(sql, CLIENT_TABLE, query);
    const clients = rows.map((row) => ({
      client_id: row.client_id,
      client_name: row.client_name,
      client_type: row.client_type as ClientSummary["client_type"],
      token_endpoint_auth_method: row.auth_method as AuthMethod,
      grant_types: (row.grant_types === "" ? [] : row.grant_types.split(" ")) as GrantType[],
      self_registered: row.self_registered === 1,
      created_at: row.created_at,
      updated_at: row.updated_at,
      live_grants: this.liveGrants(row.client_id),
      written_at: row.written_at,
    }));
    return { clients, ...(next ? { next } : {}) };
  }

  liveGrants(clientId: string): number {
    const row = this.ctx.storage.sql
      .exec<{ live: number }>("SELECT live FROM grant_counts WHERE client_id = ?", clientId)
      .toArray()[0];
    return row?.live ?? 0;
  }

  /**
   * A family reports that it became a live grant (`live`), or stopped being
   * one. Idempotent, and order-proof: a family counts once however often it
   * says so, and once it has ended, a late "live" is ignored.
   */
  noteGrant(familyId: string, clientId: string, live: boolean): void {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const known = sql
        .exec<{ live: number }>("SELECT live FROM grants WHERE family_id = ?", familyId)
        .toArray()[0];
      if (live) {
        this.noteUse(clientId); // a family holding refresh tokens: its client has obtained tokens
        if (known) return; // counted already, or ended already
        sql.exec("INSERT INTO grants VALUES (?, ?, 1, ?)", familyId, clientId, now);
        this.count(clientId, 1);
        return;
      }
      if (known?.live === 0) return;
      sql.exec("INSERT OR REPLACE INTO grants VALUES (?, ?, 0, ?)", familyId, clientId, now);
      if (known) this.count(clientId, -1);
      sql.exec("DELETE FROM grants WHERE live = 0 AND changed_at < ?", now - ENDED_MS);
    });
  }

  /**
   * A client obtained a token (./usage.ts, and every live-grant note): it is
   * used, for good. Idempotent; the first note's time is kept.
   */
  noteUse(clientId: string): void {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO client_uses VALUES (?, ?)",
      clientId,
      Date.now(),
    );
  }

  /** Whether a client has obtained a token, as far as the notes tell (for tests and the console). */
  used(clientId: string): boolean {
    return (
      this.ctx.storage.sql.exec("SELECT 1 FROM client_uses WHERE client_id = ?", clientId).toArray()
        .length > 0
    );
  }

  /** The self-registered clients never used, oldest first: the expiry candidates. */
  private unused(limit: number): { client_id: string; created_at: number }[] {
    return this.ctx.storage.sql
      .exec<{ client_id: string; created_at: number }>(
        `SELECT client_id, created_at FROM clients
         WHERE self_registered = 1
           AND NOT EXISTS (SELECT 1 FROM client_uses u WHERE u.client_id = clients.client_id)
         ORDER BY created_at LIMIT ?`,
        limit,
      )
      .toArray();
  }

  /** Makes sure the alarm runs by the time a client registered at `createdAt` (s) could expire. */
  private async sweepBy(createdAt: number): Promise<void> {
    const days = registeredClientUnusedDays(this.env);
    if (days === 0) return;
    const at = createdAt * 1000 + days * 86_400_000;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Deletes the self-registered clients that obtained no token within
   * REGISTERED_CLIENT_UNUSED_DAYS of registering (./expiry.ts), a batch at a
   * time, through the registry's delete order: the KV record, then the row.
   * Then it waits for the next one that could expire. A note of use that
   * arrives while a client is being deleted (its first token issued in that
   * very moment) does not save it: that token lives out its lifetime, and
   * the client is gone as it would have been a moment earlier.
   */
  override async alarm(): Promise<void> {
    await inObjectCall(this.ctx, this.env, alarmRequestId("ClientDirectory", this.ctx.id), () =>
      this.sweep(),
    );
  }

  private async sweep(): Promise<void> {
    const days = registeredClientUnusedDays(this.env);
    if (days === 0) return;
    const cutoff = Math.floor((Date.now() - days * 86_400_000) / 1000);
    const batch = this.unused(SWEEP_BATCH).filter((c) => c.created_at <= cutoff);
    for (const { client_id } of batch) {
      if (this.used(client_id)) continue; // noted while an earlier one was deleted
      if (await deleteUnusedClient(this.env, client_id)) this.remove(client_id);
      // Not a self-registered client in KV (none at all: the listing repairs such a row):
      // never a candidate again.
      else this.noteUse(client_id);
    }
    const next = this.unused(1)[0];
    if (!next) return;
    const more = batch.length === SWEEP_BATCH;
    await this.ctx.storage.setAlarm(
      more ? Date.now() + 1000 : next.created_at * 1000 + days * 86_400_000,
    );
  }

  private count(clientId: string, delta: 1 | -1): void {
    const sql = this.ctx.storage.sql;
    sql.exec(
      `INSERT INTO grant_counts VALUES (?, ?)
       ON CONFLICT (client_id) DO UPDATE SET live = live + excluded.live`,
      clientId,
      delta,
    );
    sql.exec("DELETE FROM grant_counts WHERE client_id = ? AND live <= 0", clientId);
  }
}
