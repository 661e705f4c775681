import { fromBase64Url, toBase64Url, utf8 } from "../lib/bytes";

/**
 * What the user directory can be asked (pure: no storage). Listing and
 * search use keyset paging: a page starts after the last row of the one
 * before, named by its key, so every page costs one index seek and a few
 * steps along the index however deep it is (OFFSET would walk past every
 * earlier row), and rows written between two pages neither repeat nor push
 * others out.
 */

/** The orders the directory keeps: by username, by email address. */
export const DIRECTORY_ORDERS = ["username", "email"] as const;
export type DirectoryOrder = (typeof DIRECTORY_ORDERS)[number];

/** A page size from 1 to MAX_PAGE, DEFAULT_PAGE if not given. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** The place of one row in an order: its search key, then its sub (keys need not be unique). */
export interface DirectoryPosition {
  key: string;
  sub: string;
}

export interface DirectoryQuery {
  by: DirectoryOrder;
  /** Only rows whose key starts with this (already a search key: see `searchKey`). */
  prefix: string;
  /** Only rows after this position. */
  after?: DirectoryPosition;
  limit: number;
}

/**
 * How names and addresses are compared: Unicode-normalised (NFKC), lower
 * case, without surrounding spaces. Usernames are stored that way already;
 * email addresses keep the case they were given in, and are found in any.
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
export function encodeCursor(by: DirectoryOrder, position: DirectoryPosition): string {
  return toBase64Url(utf8(JSON.stringify([by, position.key, position.sub])));
}

/** Longest key a cursor may carry: an email address (320) in its longest UTF-8 form, and a margin. */
const MAX_CURSOR_KEY = 1_400;

export function decodeCursor(
  cursor: string,
): { by: DirectoryOrder; after: DirectoryPosition } | undefined {
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
  const [by, key, sub] = value as unknown[];
  if (!DIRECTORY_ORDERS.includes(by as DirectoryOrder)) return undefined;
  if (typeof key !== "string" || key.length > MAX_CURSOR_KEY) return undefined;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 64) return undefined;
  return { by: by as DirectoryOrder, after: { key, sub } };
}
