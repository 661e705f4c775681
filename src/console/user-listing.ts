import { fieldError } from "../lib/json-fields";
import { userDirectory } from "../users/directory";
import {
  DEFAULT_PAGE,
  type DirectoryQuery,
  decodeCursor,
  encodeCursor,
  searchKey,
} from "../users/directory-query";
import type { UserView } from "../users/model";
import type { ConsoleContext } from "./context";

/**
 * The users list: a page of the user directory (keyset paging, so a page
 * costs the same at 100,000 users as at 100). TEMPORARY query reading, until
 * the admin API's query checking moves below the surfaces with the client
 * directory; then both read the query with the same function.
 */
export interface UserListing {
  users: UserView[];
  q: string;
  by: "username" | "email";
  next?: string | undefined;
}

export async function userPage(c: ConsoleContext): Promise<UserListing> {
  const q = c.req.query("q") ?? "";
  const by = c.req.query("by") === "email" ? "email" : "username";
  if (q.length > 320) throw fieldError("q", "must be at most 320 characters");
  const query: DirectoryQuery = { by, prefix: searchKey(q), limit: DEFAULT_PAGE };
  const raw = c.req.query("cursor");
  if (raw) {
    const cursor = decodeCursor(raw);
    if (!cursor || cursor.by !== by || !cursor.after.key.startsWith(query.prefix))
      throw fieldError("cursor", "is not one this listing gave out for the same q and by");
    query.after = cursor.after;
  }
  const page = await userDirectory(c.env).page(query);
  return { users: page.users, q, by, next: page.next ? encodeCursor(by, page.next) : undefined };
}
