import type { AppContext } from "../http/context";
import { encodeCursor, searchKey } from "../lib/directory-query";
import { USER_ORDERS, type UserOrder, userDirectory } from "../users/directory";
import type { UserView } from "../users/model";
import { type Listing, listQuery } from "./list-query";

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

const USER_LISTING: Listing<UserOrder> = {
  orders: USER_ORDERS,
  prefixOf: { username: searchKey, email: searchKey },
  // The longest `q`: an email address.
  maxQ: 320,
};

export async function listUsers(c: AppContext): Promise<UserListPage> {
  const query = listQuery(c, USER_LISTING);
  const page = await userDirectory(c.env).page(query);
  return {
    users: page.users,
    ...(page.next ? { next_cursor: encodeCursor(query.by, page.next) } : {}),
  };
}
