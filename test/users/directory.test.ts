import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, MAX_PAGE, pageStatement } from "../../src/lib/directory-query";
import {
  type DirectoryPage,
  type UserQuery as DirectoryQuery,
  USER_ORDERS,
  USER_TABLE,
  type UserDirectory,
} from "../../src/users/directory";
import type { UserView } from "../../src/users/model";

/**
 * The user directory object on its own: which write wins, that a deletion
 * is final, the order of its pages, and that a page stays one index seek at
 * 100,000 rows. Each test uses an instance of its own (the service uses one
 * fixed instance; the class is the same).
 */

const directory = () => env.USER_DIRECTORY.getByName(`test-${crypto.randomUUID()}`);

let counter = 0;
function view(overrides: Partial<UserView> = {}): UserView {
  counter++;
  return {
    id: crypto.randomUUID(),
    username: `user-${counter}`,
    name: null,
    email: null,
    email_verified: false,
    blocked: false,
    created_at: 1_700_000_000,
    updated_at: 1_700_000_000,
    ...overrides,
  };
}

const query = (q: Partial<DirectoryQuery> = {}): DirectoryQuery => ({
  by: "username",
  prefix: "",
  limit: MAX_PAGE,
  ...q,
});

/** Every row of a query, page by page, `limit` at a time. */
async function everyPage(
  stub: DurableObjectStub<UserDirectory>,
  q: Partial<DirectoryQuery>,
): Promise<UserView[]> {
  const rows: UserView[] = [];
  let page: DirectoryPage = await stub.page(query(q));
  rows.push(...page.users);
  while (page.next) {
    page = await stub.page(query({ ...q, after: page.next }));
    rows.push(...page.users);
  }
  return rows;
}

describe("which write the directory keeps", () => {
  it("keeps the highest version it was sent, whatever order the writes arrive in, and the same write twice changes nothing", async () => {
    const stub = directory();
    const first = view({ username: "ada", name: "Ada" });
    const second = { ...first, name: "Ada Lovelace", blocked: true };
    await stub.put(second, 2);
    await stub.put(first, 1); // overtaken: arrives late
    expect((await stub.page(query())).users).toEqual([second]);
    await stub.put(second, 2);
    expect((await stub.page(query())).users).toEqual([second]);
    const third = { ...second, blocked: false };
    await stub.put(third, 3);
    expect((await stub.page(query())).users).toEqual([third]);
  });

  it("a deleted account stays deleted, whatever version a late write carries", async () => {
    const stub = directory();
    const user = view({ email: "gone@example.test" });
    await stub.put(user, 1);
    await stub.remove(user.id);
    await stub.put({ ...user, name: "late" }, 99);
    expect((await stub.page(query())).users).toEqual([]);
    expect((await stub.page(query({ by: "email" }))).users).toEqual([]);
  });
});

describe("pages", () => {
  it("lists by username in order, and finds by prefix in any case", async () => {
    const stub = directory();
    const names = ["carol", "alice", "bob", "alfred", "al", "álvaro", "zoë"];
    for (const username of names) await stub.put(view({ username }), 1);
    const all = (await stub.page(query())).users.map((u) => u.username);
    expect(all).toEqual(["al", "alfred", "alice", "bob", "carol", "zoë", "álvaro"]);
    const al = (await stub.page(query({ prefix: "al" }))).users.map((u) => u.username);
    expect(al).toEqual(["al", "alfred", "alice"]);
    expect((await stub.page(query({ prefix: "á" }))).users.map((u) => u.username)).toEqual([
      "álvaro",
    ]);
    expect((await stub.page(query({ prefix: "alz" }))).users).toEqual([]);
  });

  it("lists by email address in order of its lower-case form; users without one are not in that order", async () => {
    const stub = directory();
    await stub.put(view({ username: "a", email: "Zed@Example.test" }), 1);
    await stub.put(view({ username: "b", email: "amy@example.test" }), 1);
    await stub.put(view({ username: "c", email: "BEN@example.test" }), 1);
    await stub.put(view({ username: "d", email: null }), 1);
    const emails = (await stub.page(query({ by: "email" }))).users.map((u) => u.email);
    expect(emails).toEqual(["amy@example.test", "BEN@example.test", "Zed@Example.test"]);
    const zed = (await stub.page(query({ by: "email", prefix: "zed@" }))).users;
    expect(zed.map((u) => u.username)).toEqual(["a"]);
  });

  it("pages end with the position of their last row exactly when more rows follow", async () => {
    const stub = directory();
    for (let i = 0; i < 7; i++) await stub.put(view({ username: `p${i}` }), 1);
    const first = await stub.page(query({ limit: 3 }));
    expect(first.users.map((u) => u.username)).toEqual(["p0", "p1", "p2"]);
    expect(first.next?.key).toBe("p2");
    const second = await stub.page(query({ limit: 3, after: first.next }));
    expect(second.users.map((u) => u.username)).toEqual(["p3", "p4", "p5"]);
    const third = await stub.page(query({ limit: 3, after: second.next }));
    expect(third.users.map((u) => u.username)).toEqual(["p6"]);
    expect(third.next).toBeUndefined();
    expect((await stub.page(query({ limit: 7 }))).next).toBeUndefined();
  });

  it("orders rows with the same key by sub, so none is skipped or repeated across a page break", async () => {
    const stub = directory();
    // A name released by a deleted account can be claimed again before the deletion arrives.
    const twins = [
      view({ username: "twin" }),
      view({ username: "twin" }),
      view({ username: "twin" }),
    ];
    for (const twin of twins) await stub.put(twin, 1);
    const rows = await everyPage(stub, { limit: 1 });
    expect(rows.map((u) => u.id)).toEqual(twins.map((t) => t.id).sort());
  });
});

describe("cursors", () => {
  it("are base64url, and decode only to what they were made from", () => {
    const cursor = encodeCursor("email", { key: "ann@example.test", id: "s-1" });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, USER_ORDERS)).toEqual({
      by: "email",
      after: { key: "ann@example.test", id: "s-1" },
    });
  });

  it("anything else decodes to nothing", () => {
    const b64 = (text: string) =>
      btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    for (const bad of [
      "",
      "not base64!",
      b64("not json"),
      b64("{}"),
      b64('["name","a","s"]'),
      b64('["username",1,"s"]'),
      b64('["username","a",""]'),
      b64('["username","a","s","extra"]'),
      b64(`["username","${"a".repeat(2000)}","s"]`),
      `${encodeCursor("username", { key: "a", id: "s" })}x`,
    ]) {
      expect(decodeCursor(bad, USER_ORDERS), bad).toBeUndefined();
    }
  });
});

describe("at 100,000 users", () => {
  const ROWS = 100_000;
  /** A permutation of 0..ROWS-1, so that the email order is not the username order. */
  const shuffled = (i: number) => (i * 7_919) % ROWS;
  const username = (i: number) => `user-${String(i).padStart(6, "0")}`;
  const email = (i: number) => `mail-${String(shuffled(i)).padStart(6, "0")}@example.test`;

  it("a page is one index seek (EXPLAIN QUERY PLAN: SEARCH ... USING INDEX, no SCAN, no sort), at the start, deep into the table and within a prefix", async () => {
    const stub = directory();
    // Test-only path: the rows go straight into the object, through its own
    // `put`, in one transaction (the service writes them one account at a time).
    await runInDurableObject(stub, (instance: UserDirectory, state) => {
      state.storage.transactionSync(() => {
        for (let i = 0; i < ROWS; i++) {
          instance.put(
            {
              id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
              username: username(i),
              name: `User ${i}`,
              email: email(i),
              email_verified: false,
              blocked: i % 10 === 0,
              created_at: 1_700_000_000 + i,
              updated_at: 1_700_000_000 + i,
            },
            1,
          );
        }
      });
    });

    const deep = {
      key: username(70_000),
      id: `00000000-0000-4000-8000-${"070000".padStart(12, "0")}`,
    };
    const queries: DirectoryQuery[] = [
      query({ limit: 20 }),
      query({ limit: 20, after: deep }),
      query({ limit: 20, prefix: "user-07120" }),
      query({ limit: 20, prefix: "user-07", after: deep }),
      query({ by: "email", limit: 20 }),
      query({ by: "email", limit: 20, prefix: "mail-00500" }),
      query({
        by: "email",
        limit: 20,
        after: { key: email(12_345), id: `00000000-0000-4000-8000-${"012345".padStart(12, "0")}` },
      }),
    ];
    const plans = await runInDurableObject(stub, (_instance, state) => {
      const count = state.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM users")
        .one().n;
      const details = queries.map((q) => {
        const { sql, bindings } = pageStatement(USER_TABLE, q);
        return state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...bindings)
          .toArray()
          .map((row) => row.detail);
      });
      return { count, details };
    });
    expect(plans.count).toBe(ROWS);
    queries.forEach((q, i) => {
      const detail = plans.details[i] as string[];
      const index = q.by === "username" ? "users_by_username" : "users_by_email";
      expect(detail, JSON.stringify(q)).toEqual([
        expect.stringMatching(`^SEARCH users USING INDEX ${index} \\(`),
      ]);
      expect(detail.join(" ")).not.toMatch(/SCAN|TEMP B-TREE/);
    });

    // And the pages are the right ones.
    const after = await stub.page(queries[1] as DirectoryQuery);
    expect(after.users.map((u) => u.username)).toEqual(
      Array.from({ length: 20 }, (_, k) => username(70_001 + k)),
    );
    expect(after.users[9]?.blocked).toBe(true); // user-070010
    const prefixed = await stub.page(queries[2] as DirectoryQuery);
    expect(prefixed.users.map((u) => u.username)).toEqual(
      Array.from({ length: 10 }, (_, k) => username(71_200 + k)),
    );
    expect(prefixed.next).toBeUndefined();
    const byEmail = await stub.page(queries[5] as DirectoryQuery);
    expect(byEmail.users.map((u) => u.email)).toEqual(
      Array.from(
        { length: 10 },
        (_, k) => `mail-${String(5_000 + k).padStart(6, "0")}@example.test`,
      ),
    );
  }, 120_000);
});
