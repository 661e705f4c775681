import type { AppContext } from "../http/context";
import { fieldError } from "../lib/json-fields";
import { userDirectory } from "../users/directory";
import {
  DEFAULT_PAGE,
  DIRECTORY_ORDERS,
  type DirectoryOrder,
  type DirectoryQuery,
  decodeCursor,
  encodeCursor,
  MAX_PAGE,
  searchKey,
} from "../users/directory-query";
import type { UserView } from "../users/model";

/**
 * GET /admin/users?q=&by=&limit=&cursor=: lists users from the user
 * directory, in order of username (or of email address, `by=email`), those
 * whose key starts with `q` (any case), `limit` at a time. A page ends with
 * `next_cursor` when more follow; passing it back gives the next page.
 */

export interface UserListPage {
  users: UserView[];
  next_cursor?: string;
}

const PARAMETERS = ["q", "by", "limit", "cursor"];
/** The longest `q`: an email address. */
const MAX_Q = 320;
const LIMIT = /^[0-9]{1,3}$/;

/** Reads and checks the query string; every refusal is a 400 that names the parameter. */
export function listQuery(c: AppContext): DirectoryQuery {
  const all = c.req.queries();
  for (const [name, values] of Object.entries(all)) {
    const shown = /^[A-Za-z_]{1,40}$/.test(name) ? name : "(a parameter)";
    if (!PARAMETERS.includes(name)) throw fieldError(shown, "is not a parameter of this listing");
    if (values.length > 1) throw fieldError(shown, "may be given once");
  }
  const one = (name: string): string | undefined => all[name]?.[0];

  const by = one("by") ?? "username";
  if (!DIRECTORY_ORDERS.includes(by as DirectoryOrder))
    throw fieldError("by", `must be one of ${DIRECTORY_ORDERS.join(", ")}`);

  const q = one("q") ?? "";
  if (q.length > MAX_Q) throw fieldError("q", `must be at most ${MAX_Q} characters`);
  const prefix = searchKey(q);

  const rawLimit = one("limit");
  const limit = rawLimit === undefined ? DEFAULT_PAGE : Number(rawLimit);
  if (rawLimit !== undefined && (!LIMIT.test(rawLimit) || limit < 1 || limit > MAX_PAGE))
    throw fieldError("limit", `must be a whole number from 1 to ${MAX_PAGE}`);

  const query: DirectoryQuery = { by: by as DirectoryOrder, prefix, limit };
  const rawCursor = one("cursor");
  if (rawCursor !== undefined) {
    const cursor = decodeCursor(rawCursor);
    // A cursor of another order, or from outside this prefix, would page
    // through something else than what was asked: refused like a forged one.
    if (!cursor || cursor.by !== query.by || !cursor.after.key.startsWith(prefix))
      throw fieldError("cursor", "is not one this listing gave out for the same q and by");
    query.after = cursor.after;
  }
  return query;
}

export async function listUsers(c: AppContext): Promise<UserListPage> {
  const query = listQuery(c);
  const page = await userDirectory(c.env).page(query);
  return {
    users: page.users,
    ...(page.next ? { next_cursor: encodeCursor(query.by, page.next) } : {}),
  };
}
