import { fromBase64Url, toBase64Url, utf8 } from "../lib/bytes";
import { AUDIT_EVENTS, type AuditEvent } from "../log";
import { MAX_ID_LENGTH } from "./event";

/**
 * What the security-event store can be asked (pure: no storage): the events
 * of one user, one client, one type, or all, newest first, a page at a time.
 * Paging is by keyset: a page starts below the last id of the one before, so
 * every page is one seek into an index however deep it is, and events
 * stored between two pages neither repeat nor push others out.
 */

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

export interface EventFilter {
  sub?: string;
  clientId?: string;
  type?: AuditEvent;
}

export interface EventQuery extends EventFilter {
  /** Only events with a smaller id (older) than this: the last id of the page before. */
  before?: number;
  limit: number;
}

/** A statement and its bindings, as `sql.exec` takes them. */
export interface Statement {
  sql: string;
  bindings: (string | number)[];
}

/**
 * The statement of one page. Each filter has its own index ending in `id`
 * (store.ts), and the statement names the one it seeks (INDEXED BY: SQLite
 * fails the statement rather than fall back to a scan): sub's if given, else
 * client_id's, else type's; the other filters, if any, are checked on the
 * rows that index yields. Without a filter it walks the table's own key down
 * from the cursor. One row more than the page tells whether another follows.
 * Exported so that a test can ask SQLite for this very statement's plan.
 */
export function pageStatement(query: EventQuery): Statement {
  const where: string[] = [];
  const bindings: (string | number)[] = [];
  const index = query.sub
    ? "events_by_sub"
    : query.clientId
      ? "events_by_client"
      : query.type
        ? "events_by_type"
        : undefined;
  for (const [column, value] of [
    ["sub", query.sub],
    ["client_id", query.clientId],
    ["type", query.type],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    bindings.push(value);
  }
  if (query.before !== undefined) {
    where.push("id < ?");
    bindings.push(query.before);
  }
  bindings.push(query.limit + 1);
  const from = index ? `events INDEXED BY ${index}` : "events";
  const condition = where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "";
  return { sql: `SELECT * FROM ${from}${condition} ORDER BY id DESC LIMIT ?`, bindings };
}

/**
 * A cursor is opaque to callers: base64url of the last id of a page and the
 * filters it was given for. It is a bookmark, not a secret; one that does
 * not decode, or was given for other filters, is refused, never passed to SQL.
 */
export function encodeCursor(filter: EventFilter, lastId: number): string {
  const value = [lastId, filter.sub ?? null, filter.clientId ?? null, filter.type ?? null];
  return toBase64Url(utf8(JSON.stringify(value)));
}

const nullableId = (value: unknown): value is string | null =>
  value === null ||
  (typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH);

export function decodeCursor(cursor: string): (EventFilter & { before: number }) | undefined {
  if (cursor.length > 4 * (MAX_ID_LENGTH + 100)) return undefined;
  const bytes = fromBase64Url(cursor);
  if (!bytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [before, sub, clientId, type] = value as unknown[];
  if (typeof before !== "number" || !Number.isSafeInteger(before) || before < 1) return undefined;
  if (!nullableId(sub) || !nullableId(clientId)) return undefined;
  if (type !== null && !AUDIT_EVENTS.includes(type as AuditEvent)) return undefined;
  return {
    before,
    ...(sub !== null ? { sub } : {}),
    ...(clientId !== null ? { clientId } : {}),
    ...(type !== null ? { type: type as AuditEvent } : {}),
  };
}
