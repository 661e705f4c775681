import { DEFAULT_PAGE, type DirectoryQuery, decodeCursor, MAX_PAGE } from "./directory-query";
import { fieldError } from "./json-fields";

/**
 * The query string of a directory listing (GET /admin/users and GET
 * /admin/clients, and the console's lists of users and applications, which
 * read the same parameters): `q` (a prefix), `by` (the order), `limit`,
 * `cursor`. Every refusal is a 400 invalid_request that names the parameter.
 */

/** A query string as Hono's `c.req.queries()` gives it: every value of each name. */
export type QueryValues = Record<string, string[]>;

export interface Listing<Order extends string> {
  /** The orders `by` may name; the first is the default. */
  orders: readonly [Order, ...Order[]];
  /** Per order, how `q` becomes a prefix of that order's keys (e.g. `searchKey`). */
  prefixOf: Record<Order, (q: string) => string>;
  /** The longest `q`. */
  maxQ: number;
}

const PARAMETERS = ["q", "by", "limit", "cursor"];
const LIMIT = /^[0-9]{1,3}$/;

export function listQuery<Order extends string>(
  all: QueryValues,
  listing: Listing<Order>,
): DirectoryQuery<Order> {
  for (const [name, values] of Object.entries(all)) {
    const shown = /^[A-Za-z_]{1,40}$/.test(name) ? name : "(a parameter)";
    if (!PARAMETERS.includes(name)) throw fieldError(shown, "is not a parameter of this listing");
    if (values.length > 1) throw fieldError(shown, "may be given once");
  }
  const one = (name: string): string | undefined => all[name]?.[0];

  const by = (one("by") ?? listing.orders[0]) as Order;
  if (!listing.orders.includes(by))
    throw fieldError("by", `must be one of ${listing.orders.join(", ")}`);

  const q = one("q") ?? "";
  if (q.length > listing.maxQ) throw fieldError("q", `must be at most ${listing.maxQ} characters`);
  const prefix = listing.prefixOf[by](q);

  const rawLimit = one("limit");
  const limit = rawLimit === undefined ? DEFAULT_PAGE : Number(rawLimit);
  if (rawLimit !== undefined && (!LIMIT.test(rawLimit) || limit < 1 || limit > MAX_PAGE))
    throw fieldError("limit", `must be a whole number from 1 to ${MAX_PAGE}`);

  const query: DirectoryQuery<Order> = { by, prefix, limit };
  const rawCursor = one("cursor");
  if (rawCursor !== undefined) {
    const cursor = decodeCursor(rawCursor, listing.orders);
    // A cursor of another order or listing, or from outside this prefix,
    // would page through something else than what was asked: refused like a
    // forged one.
    if (!cursor || cursor.by !== query.by || !cursor.after.key.startsWith(prefix))
      throw fieldError("cursor", "is not one this listing gave out for the same q and by");
    query.after = cursor.after;
  }
  return query;
}
