import { DurableObject } from "cloudflare:workers";
import {
  type DirectoryPosition,
  type DirectoryQuery,
  type DirectoryTable,
  readPage,
  searchKey,
} from "../lib/directory-query";
import type { UserView } from "./model";

/**
 * The user directory: one SQLite-backed Durable Object (a single instance,
 * `userDirectory(env)`) with a row per account, made for listing and search,
 * which the per-user objects cannot answer (they are found only by name).
 *
 * It is a copy. Each User object is the truth about its account and writes
 * its own row (see directory-outbox.ts); the directory only has to keep the
 * newest version it was sent, and to never let a deleted account come back.
 * Sign-in, refresh and userinfo never read or wait for it.
 */

export interface DirectoryPage {
  users: UserView[];
  /** The last row's position, when there are more rows after it. */
  next?: DirectoryPosition;
}

/** The orders the directory keeps: by username, by email address. */
export const USER_ORDERS = ["username", "email"] as const;
export type UserOrder = (typeof USER_ORDERS)[number];
export type UserQuery = DirectoryQuery<UserOrder>;

/** The name of the one instance. */
const INSTANCE = "directory";

export const userDirectory = (env: Env) => env.USER_DIRECTORY.getByName(INSTANCE);

/** How long a deleted account's tombstone outlives it: far longer than any write can be in flight. */
const TOMBSTONE_MS = 86_400_000;

/**
 * `username_key` and `email_key` are the search keys (`searchKey`); each has
 * an index ending in `sub`, the order of its pages, so a page is one seek
 * into the index whatever the table's size. Neither key is unique here: a
 * name released by a deleted account may be claimed again before the
 * deletion reaches the directory.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  sub TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL,
  name TEXT,
  email TEXT,
  email_key TEXT,
  email_verified INTEGER NOT NULL,
  blocked INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS users_by_username ON users (username_key, sub);
CREATE INDEX IF NOT EXISTS users_by_email ON users (email_key, sub);
CREATE TABLE IF NOT EXISTS removed (sub TEXT PRIMARY KEY, removed_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS removed_by_time ON removed (removed_at);
`;

/** The table and its orders, for the shared page statement (src/lib/directory-query.ts). */
export const USER_TABLE: DirectoryTable<UserOrder> = {
  table: "users",
  id: "sub",
  keys: { username: "username_key", email: "email_key" },
};

interface Row {
  sub: string;
  version: number;
  username: string;
  username_key: string;
  name: string | null;
  email: string | null;
  email_key: string | null;
  email_verified: number;
  blocked: number;
  created_at: number;
  updated_at: number;
  // SqlStorageCursor rows are records of SQL values.
  [column: string]: SqlStorageValue;
}

const viewOf = (row: Row): UserView => ({
  id: row.sub,
  username: row.username,
  name: row.name,
  email: row.email,
  email_verified: row.email_verified === 1,
  blocked: row.blocked === 1,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export class UserDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /**
   * Writes an account's row, unless the directory already has this version
   * or a newer one (writes from one account can arrive out of order), or the
   * account was deleted (a late write must not bring it back). Idempotent:
   * the same write twice changes nothing.
   */
  put(user: UserView, version: number): void {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM removed WHERE sub = ?", user.id).toArray().length > 0) return;
    sql.exec(
      `INSERT INTO users (sub, version, username, username_key, name, email, email_key,
         email_verified, blocked, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sub) DO UPDATE SET
         version = excluded.version, username = excluded.username,
         username_key = excluded.username_key, name = excluded.name, email = excluded.email,
         email_key = excluded.email_key, email_verified = excluded.email_verified,
         blocked = excluded.blocked, created_at = excluded.created_at,
         updated_at = excluded.updated_at
       WHERE excluded.version > users.version`,
      user.id,
      version,
      user.username,
      searchKey(user.username),
      user.name,
      user.email,
      user.email === null ? null : searchKey(user.email),
      user.email_verified ? 1 : 0,
      user.blocked ? 1 : 0,
      user.created_at,
      user.updated_at,
    );
  }

  /**
   * Removes an account's row for good: a deletion is final, whatever
   * version a later write carries (a sub is never reused). The tombstone
   * that keeps it out is dropped a day later.
   */
  remove(sub: string): void {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM users WHERE sub = ?", sub);
      sql.exec("INSERT OR REPLACE INTO removed (sub, removed_at) VALUES (?, ?)", sub, now);
      sql.exec("DELETE FROM removed WHERE removed_at < ?", now - TOMBSTONE_MS);
    });
  }

  page(query: UserQuery): DirectoryPage {
    const { rows, next } = readPage<UserOrder, Row>(this.ctx.storage.sql, USER_TABLE, query);
    return { users: rows.map(viewOf), ...(next ? { next } : {}) };
  }
}
