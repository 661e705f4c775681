import { encodeCursor, searchKey } from "../lib/directory-query";
import { type Listing, listQuery, type QueryValues } from "../lib/list-query";
import { USER_ORDERS, type UserOrder, userDirectory } from "./directory";
import type { UserView } from "./model";

/**
 * The user list of GET /admin/users?q=&by=&limit=&cursor= and of the
 * console's Users page: lists users from the user
 * directory, in order of username (or of email address, `by=email`), those
 * whose key starts with `q` (any case), `limit` at a time. A page ends with
 * `next_cursor` when more follow; passing it back gives the next page.
 */

export interface UserListPage {
  users: UserView[];
  next_cursor?: string;
}

const USER_LISTING: Listing<UserOrder> = {
  orders: USER_ORDERS,
  prefixOf: { username: searchKey, email: searchKey },
  // The longest `q`: an email address.
  maxQ: 320,
};

/** `queries`: the listing's query string (`c.req.queries()`), checked by `listQuery`. */
export async function listUsers(env: Env, queries: QueryValues): Promise<UserListPage> {
  const query = listQuery(queries, USER_LISTING);
  const page = await userDirectory(env).page(query);
  return {
    users: page.users,
    ...(page.next ? { next_cursor: encodeCursor(query.by, page.next) } : {}),
  };
}
