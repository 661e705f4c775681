import { fromBase64Url, toBase64Url, utf8 } from "./bytes";

/**
 * What a directory (the user directory, the client directory: SQLite-backed
 * Durable Objects made for listing and search) can be asked, and the one
 * statement that answers it. Pure: no storage.
 *
 * Listing and search use keyset paging: a page starts after the last row of
 * the one before, named by its key, so every page costs one index seek and a
 * few steps along the index however deep it is (OFFSET would walk past every
 * earlier row), and rows written between two pages neither repeat nor push
 * others out.
 */

/** A page size from 1 to MAX_PAGE, DEFAULT_PAGE if not given. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** The place of one row in an order: its key in that order, then its id (keys need not be unique). */
export interface DirectoryPosition {
  key: string;
  id: string;
}

export interface DirectoryQuery<Order extends string> {
  by: Order;
  /** Only rows whose key starts with this (already in the order's key form, e.g. `searchKey`). */
  prefix: string;
  /** Only rows after this position. */
  after?: DirectoryPosition;
  limit: number;
}

/**
 * How names and addresses are compared: Unicode-normalised (NFKC), lower
 * case, without surrounding spaces. Usernames are stored that way already;
 * email addresses and client names keep the case they were given in, and are
 * found in any.
 */
export const searchKey = (text: string): string => text.normalize("NFKC").toLowerCase().trim();

/**
 * The first string after every string that starts with `prefix`, in
 * SQLite's text order (UTF-8 bytes): U+10FFFF encodes to the greatest
 * 4-byte sequence, so `prefix` followed by anything sorts below it.
 */
export const prefixEnd = (prefix: string): string => `${prefix}\u{10FFFF}`;

/**
 * A cursor is opaque to callers: base64url of the order and the last row's
 * position. It is not a secret (the caller saw that row), only a bookmark;
 * anything that does not decode to one is refused, never passed to SQL.
 */
export function encodeCursor(by: string, position: DirectoryPosition): string {
  return toBase64Url(utf8(JSON.stringify([by, position.key, position.id])));
}

/** Longest key a cursor may carry: an email address (320) in its longest UTF-8 form, and a margin. */
const MAX_CURSOR_KEY = 1_400;
/** Longest row id: a client_id (128); a user's sub is a UUID. */
const MAX_ID = 128;

/** The position a cursor names, if it is one of `orders`' cursors; else undefined. */
export function decodeCursor<Order extends string>(
  cursor: string,
  orders: readonly Order[],
): { by: Order; after: DirectoryPosition } | undefined {
  if (cursor.length > 2 * MAX_CURSOR_KEY) return undefined;
  const bytes = fromBase64Url(cursor);
  if (!bytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [by, key, id] = value as unknown[];
  if (!orders.includes(by as Order)) return undefined;
  if (typeof key !== "string" || key.length > MAX_CURSOR_KEY) return undefined;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID) return undefined;
  return { by: by as Order, after: { key, id } };
}

/** A statement and its bindings, as `sql.exec` takes them. */
export interface Statement {
  sql: string;
  bindings: (string | number)[];
}

/**
 * A directory's table: its name, the column of its row ids, and per order
 * the key column, each with an index on (key column, id column).
 */
export interface DirectoryTable<Order extends string> {
  table: string;
  id: string;
  keys: Record<Order, string>;
}

/**
 * The statement of one page: the rows whose key starts with the prefix (a
 * range, `key >= prefix AND key < prefixEnd(prefix)`, which an index can
 * seek; LIKE could not, as it ignores case), after the cursor's position if
 * any (a row-value comparison, which seeks the index too), in index order,
 * one more than the page to know whether another follows. A test asks SQLite
 * for this very statement's plan.
 */
export function pageStatement<Order extends string>(
  table: DirectoryTable<Order>,
  query: DirectoryQuery<Order>,
): Statement {
  const column = table.keys[query.by];
  const bindings: (string | number)[] = [];
  let where: string;
  if (query.after) {
    // The caller checked that the position lies within the prefix, so the
    // lower end of the range is the position itself.
    where = `(${column}, ${table.id}) > (?, ?)`;
    bindings.push(query.after.key, query.after.id);
  } else {
    where = `${column} >= ?`;
    bindings.push(query.prefix);
  }
  bindings.push(prefixEnd(query.prefix), query.limit + 1);
  return {
    sql: `SELECT * FROM ${table.table} WHERE ${where} AND ${column} < ? ORDER BY ${column}, ${table.id} LIMIT ?`,
    bindings,
  };
}

/**
 * Runs a page's statement: its rows (at most `limit`), and the last one's
 * position when more follow.
 */
export function readPage<Order extends string, Row extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  table: DirectoryTable<Order>,
  query: DirectoryQuery<Order>,
): { rows: Row[]; next?: DirectoryPosition } {
  const { sql: text, bindings } = pageStatement(table, query);
  const all = sql.exec<Row>(text, ...bindings).toArray();
  const rows = all.slice(0, query.limit);
  const last = rows.at(-1);
  if (all.length <= query.limit || !last) return { rows };
  return {
    rows,
    next: { key: String(last[table.keys[query.by]]), id: String(last[table.id]) },
  };
}
