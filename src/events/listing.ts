import { fieldError } from "../lib/json-fields";
import type { QueryValues } from "../lib/list-query";
import { AUDIT_EVENTS, type AuditEvent } from "../log";
import { MAX_ID_LENGTH } from "./event";
import {
  DEFAULT_PAGE,
  decodeCursor,
  type EventFilter,
  type EventQuery,
  encodeCursor,
  MAX_PAGE,
} from "./query";
import { type EventView, securityEvents } from "./store";

/**
 * The event list of GET /admin/events?sub=&client_id=&type=&limit=&cursor=
 * and of the console's Security events page: the stored
 * security events (src/events/), newest first, those of one user, one
 * client and/or one type, `limit` at a time. A page ends with `next_cursor`
 * when older events follow; passing it back, with the same filters, gives
 * the next page. The store is written off the requests' path: an event
 * appears a moment after the request that caused it has been answered.
 */

export interface EventListPage {
  events: EventView[];
  next_cursor?: string;
}

const PARAMETERS = ["sub", "client_id", "type", "limit", "cursor"];
const LIMIT = /^[0-9]{1,3}$/;
/** An id as the store keeps one: printable ASCII, no spaces. */
const ID = new RegExp(`^[\\x21-\\x7E]{1,${MAX_ID_LENGTH}}$`);

/** Reads and checks the query string; every refusal is a 400 that names the parameter. */
export function eventQuery(all: QueryValues): EventQuery {
  for (const [name, values] of Object.entries(all)) {
    const shown = /^[A-Za-z_]{1,40}$/.test(name) ? name : "(a parameter)";
    if (!PARAMETERS.includes(name)) throw fieldError(shown, "is not a parameter of this listing");
    if (values.length > 1) throw fieldError(shown, "may be given once");
  }
  const one = (name: string): string | undefined => all[name]?.[0];
  const id = (name: string): string | undefined => {
    const value = one(name);
    if (value !== undefined && !ID.test(value))
      throw fieldError(name, `must be 1 to ${MAX_ID_LENGTH} printable characters without spaces`);
    return value;
  };

  const filter: EventFilter = {};
  const sub = id("sub");
  if (sub !== undefined) filter.sub = sub;
  const clientId = id("client_id");
  if (clientId !== undefined) filter.clientId = clientId;
  const type = one("type");
  if (type !== undefined) {
    if (!AUDIT_EVENTS.includes(type as AuditEvent))
      throw fieldError(
        "type",
        "must be the name of an audit event, such as refresh.reuse_detected",
      );
    filter.type = type as AuditEvent;
  }

  const rawLimit = one("limit");
  const limit = rawLimit === undefined ? DEFAULT_PAGE : Number(rawLimit);
  if (rawLimit !== undefined && (!LIMIT.test(rawLimit) || limit < 1 || limit > MAX_PAGE))
    throw fieldError("limit", `must be a whole number from 1 to ${MAX_PAGE}`);

  const query: EventQuery = { ...filter, limit };
  const rawCursor = one("cursor");
  if (rawCursor !== undefined) {
    const cursor = decodeCursor(rawCursor);
    // A cursor given for other filters would page through something else
    // than what was asked: refused like a forged one.
    if (
      !cursor ||
      cursor.sub !== filter.sub ||
      cursor.clientId !== filter.clientId ||
      cursor.type !== filter.type
    )
      throw fieldError("cursor", "is not one this listing gave out for the same filters");
    query.before = cursor.before;
  }
  return query;
}

/** `queries`: the listing's query string (`c.req.queries()`), checked by `eventQuery`. */
export async function listEvents(env: Env, queries: QueryValues): Promise<EventListPage> {
  const query = eventQuery(queries);
  const page = await securityEvents(env).page(query);
  return {
    events: page.events,
    ...(page.next !== undefined ? { next_cursor: encodeCursor(query, page.next) } : {}),
  };
}
