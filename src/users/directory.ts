import { DurableObject } from "cloudflare:workers";
import {
  type DirectoryPosition,
  type DirectoryQuery,
  prefixEnd,
  searchKey,
} from "./directory-query";
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

/** A statement and its bindings, as `sql.exec` takes them. */
export interface Statement {
  sql: string;
  bindings: (string | number)[];
}

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

const COLUMNS: Record<DirectoryQuery["by"], "username_key" | "email_key"> = {
  username: "username_key",
  email: "email_key",
};

/**
 * The statement of one page: the rows whose key starts with the prefix (a
 * range, `key >= prefix AND key < prefixEnd(prefix)`, which an index can
 * seek; LIKE could not, as it ignores case), after the cursor's position if
 * any (a row-value comparison, which seeks the index too), in index order,
 * one more than the page to know whether another follows. Exported so that a
 * test can ask SQLite for this very statement's plan.
 */
export function pageStatement(query: DirectoryQuery): Statement {
  const column = COLUMNS[query.by];
  const bindings: (string | number)[] = [];
  let where: string;
  if (query.after) {
    // The caller checked that the position lies within the prefix, so the
    // lower end of the range is the position itself.
    where = `(${column}, sub) > (?, ?)`;
    bindings.push(query.after.key, query.after.sub);
  } else {
    where = `${column} >= ?`;
    bindings.push(query.prefix);
  }
  bindings.push(prefixEnd(query.prefix), query.limit + 1);
  return {
    sql: `SELECT * FROM users WHERE ${where} AND ${column} < ? ORDER BY ${column}, sub LIMIT ?`,
    bindings,
  };
}

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

  page(query: DirectoryQuery): DirectoryPage {
    const { sql, bindings } = pageStatement(query);
    const rows = this.ctx.storage.sql.exec<Row>(sql, ...bindings).toArray();
    const users = rows.slice(0, query.limit);
    const last = users.at(-1);
    if (rows.length <= query.limit || !last) return { users: users.map(viewOf) };
    const key = query.by === "username" ? last.username_key : (last.email_key as string);
    return { users: users.map(viewOf), next: { key, sub: last.sub } };
  }
}
