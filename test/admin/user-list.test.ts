import { describe, expect, it } from "vitest";
import type { UserView } from "../../src/users/model";
import { adminCall, call, json } from "../support/http";
import { expectJsonError } from "../support/security";

/**
 * GET /admin/users?q=&by=&limit=&cursor=: the operator lists and searches
 * users. Every change made through the admin API shows in the list as soon
 * as the call that made it returns. Each test works under a prefix of its
 * own, since other tests create users too.
 */

interface Page {
  users: UserView[];
  next_cursor?: string;
}

const VIEW_FIELDS = [
  "created_at",
  "email",
  "email_verified",
  "id",
  "name",
  "blocked",
  "updated_at",
  "username",
].sort();

const newPrefix = () => `ls${crypto.randomUUID().slice(0, 8)}`;

async function create(username: string, extra: Record<string, unknown> = {}): Promise<UserView> {
  const res = await adminCall("POST", "/admin/users", {
    username,
    password: "a long enough password",
    ...extra,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<UserView>(res);
}

async function list(params: Record<string, string | number>): Promise<Page> {
  const query = new URLSearchParams(
    Object.entries(params).map(([k, v]) => [k, String(v)] as [string, string]),
  );
  const res = await adminCall("GET", `/admin/users?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  const page = await json<Page>(res);
  for (const user of page.users) expect(Object.keys(user).sort()).toEqual(VIEW_FIELDS);
  return page;
}

/** Follows next_cursor to the end; returns every page's users in order. */
async function everyPage(params: Record<string, string | number>): Promise<UserView[]> {
  const users: UserView[] = [];
  let page = await list(params);
  users.push(...page.users);
  while (page.next_cursor) {
    page = await list({ ...params, cursor: page.next_cursor });
    users.push(...page.users);
  }
  return users;
}

const names = (users: UserView[]) => users.map((u) => u.username);

describe("listing", () => {
  it("lists in username order, 20 a page by default, never with a password hash", async () => {
    const p = newPrefix();
    const created = [];
    for (let i = 24; i >= 0; i--) created.push(await create(`${p}-${String(i).padStart(2, "0")}`));
    const first = await list({ q: p });
    expect(first.users).toHaveLength(20);
    expect(names(first.users)).toEqual(
      Array.from({ length: 20 }, (_, i) => `${p}-${String(i).padStart(2, "0")}`),
    );
    expect(JSON.stringify(first)).not.toMatch(/password|pbkdf2|salt|hash/i);
    expect(first.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await list({ q: p, cursor: first.next_cursor as string });
    expect(names(second.users)).toEqual(
      Array.from({ length: 5 }, (_, i) => `${p}-${String(20 + i).padStart(2, "0")}`),
    );
    expect(second.next_cursor).toBeUndefined();
    // Each item is the account as GET /admin/users/:id shows it.
    const one = created.find((u) => u.username === `${p}-03`) as UserView;
    expect(first.users[3]).toEqual(await json(await adminCall("GET", `/admin/users/${one.id}`)));
  });

  it("without q lists everyone, all pages of it, in order", async () => {
    const p = newPrefix();
    await create(`${p}-a`);
    const all = await everyPage({ limit: 100 });
    const usernames = names(all);
    expect(usernames).toContain(`${p}-a`);
    expect([...usernames].sort()).toEqual(usernames);
    expect(new Set(all.map((u) => u.id)).size).toBe(all.length);
  });

  it("pages through without a duplicate or an omission while users are being created", async () => {
    const p = newPrefix();
    const name = (n: number, tag = "") => `${p}-${String(n).padStart(3, "0")}${tag}`;
    const numberOf = (user: UserView) => Number(user.username.slice(p.length + 1, p.length + 4));
    const before: string[] = [];
    for (let i = 0; i < 30; i++) before.push((await create(name(i * 10))).id);
    // Users created in the background while the pages are read...
    const background = Promise.all(
      Array.from({ length: 12 }, (_, i) => create(name(i * 25 + 3, "bg"))),
    );
    // ...and, between two pages, one behind the cursor and one ahead of it.
    const behind: string[] = [];
    const ahead: string[] = [];
    const seen: UserView[] = [];
    let page = await list({ q: p, limit: 4 });
    seen.push(...page.users);
    for (let k = 0; page.next_cursor; k++) {
      const last = numberOf(seen.at(-1) as UserView);
      behind.push((await create(name(last - 1, `x${k}`))).id);
      ahead.push((await create(name(last + 5, `a${k}`))).id);
      page = await list({ q: p, limit: 4, cursor: page.next_cursor });
      seen.push(...page.users);
    }
    const added = (await background).map((u) => u.id);
    const ids = seen.map((u) => u.id);
    expect(new Set(ids).size, "no user twice").toBe(ids.length);
    for (const id of before) expect(ids, "every user that existed throughout").toContain(id);
    for (const id of ahead) expect(ids, "every user created ahead of the cursor").toContain(id);
    for (const id of behind) expect(ids, "none created behind it").not.toContain(id);
    for (const id of ids) expect([...before, ...ahead, ...added]).toContain(id);
    expect([...names(seen)].sort(), "in order").toEqual(names(seen));
    expect(behind.length).toBeGreaterThan(5);
  });
});

describe("search", () => {
  it("q finds usernames by prefix, in any case", async () => {
    const p = newPrefix();
    await create(`${p}-alice`);
    await create(`${p}-ALFRED`); // stored normalised: lower case
    await create(`${p}-bob`);
    expect(names((await list({ q: `${p}-AL`.toUpperCase() })).users)).toEqual([
      `${p}-alfred`,
      `${p}-alice`,
    ]);
    expect(names((await list({ q: `${p}-b`, by: "username" })).users)).toEqual([`${p}-bob`]);
    expect((await list({ q: `${p}-c` })).users).toEqual([]);
  });

  it("by=email finds addresses by prefix, in any case, in address order; users without one are not in it", async () => {
    const p = newPrefix();
    const zed = await create(`${p}-1`, { email: `${p}.Zed@Example.test` });
    const amy = await create(`${p}-2`, { email: `${p}.amy@example.test` });
    await create(`${p}-3`);
    const found = await list({ by: "email", q: `${p.toUpperCase()}.` });
    expect(found.users.map((u) => u.id)).toEqual([amy.id, zed.id]);
    expect(found.users[1]?.email).toBe(`${p}.Zed@Example.test`);
    expect((await list({ by: "email", q: `${p}.zed@EXAMPLE` })).users.map((u) => u.id)).toEqual([
      zed.id,
    ]);
    const paged = await everyPage({ by: "email", q: p, limit: 1 });
    expect(paged.map((u) => u.id)).toEqual([amy.id, zed.id]);
  });
});

describe("the list follows every change made through the admin API", () => {
  it("block and unblock show in the blocked flag", async () => {
    const p = newPrefix();
    const user = await create(`${p}-u`);
    expect((await list({ q: p })).users[0]?.blocked).toBe(false);
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);
    expect((await list({ q: p })).users[0]?.blocked).toBe(true);
    expect((await adminCall("POST", `/admin/users/${user.id}/unblock`)).status).toBe(200);
    expect((await list({ q: p })).users[0]?.blocked).toBe(false);
  });

  it("an update of the email address moves the user in the email order; name and verification follow", async () => {
    const p = newPrefix();
    const user = await create(`${p}-u`, { email: `${p}.old@example.test` });
    const res = await adminCall("PATCH", `/admin/users/${user.id}`, {
      email: `${p}.New@example.test`,
      name: "Renamed",
    });
    expect(res.status).toBe(200);
    expect((await list({ by: "email", q: `${p}.old` })).users).toEqual([]);
    const moved = (await list({ by: "email", q: `${p}.new` })).users;
    expect(moved.map((u) => u.id)).toEqual([user.id]);
    expect(moved[0]).toMatchObject({ name: "Renamed", email_verified: false });
    await adminCall("PATCH", `/admin/users/${user.id}`, { email: null });
    expect((await list({ by: "email", q: p })).users).toEqual([]);
    expect((await list({ q: p })).users[0]?.email).toBeNull();
  });

  it("a deleted user is in no list", async () => {
    const p = newPrefix();
    const user = await create(`${p}-u`, { email: `${p}@example.test` });
    const other = await create(`${p}-v`);
    expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(204);
    expect((await list({ q: p })).users.map((u) => u.id)).toEqual([other.id]);
    expect((await list({ by: "email", q: p })).users).toEqual([]);
    // The name is free again, and its new owner is listed once.
    const again = await create(`${p}-u`);
    expect((await list({ q: p })).users.map((u) => u.id)).toEqual([again.id, other.id]);
  });
});

describe("bad parameters are 400 invalid_request, naming the parameter", () => {
  const b64 = (text: string) =>
    btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  it.each([
    ["by=name", "by"],
    ["by=", "by"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=-1", "limit"],
    ["limit=%2B5", "limit"],
    ["limit=", "limit"],
    [`q=${"a".repeat(321)}`, "q"],
    ["q=a&q=b", "q"],
    ["page=2", "page"],
    ["offset=40", "offset"],
    ["__proto__=1", "__proto__"],
    ["cursor=", "cursor"],
    ["cursor=not%20a%20cursor", "cursor"],
    [`cursor=${b64("[1,2,3]")}`, "cursor"],
    [`cursor=${b64('["username","a"]')}`, "cursor"],
    [`cursor=${b64('["email","x@example.test","s"]')}`, "cursor"], // a cursor of the email order
    [`q=bob&cursor=${b64('["username","alice","s"]')}`, "cursor"], // outside the prefix
    [`cursor=${b64("\u00ff\u00fe")}`, "cursor"], // not UTF-8
    ["username=alice&q=al", "username"],
  ])("?%s", async (query, parameter) => {
    const body = await expectJsonError(
      await adminCall("GET", `/admin/users?${query}`),
      400,
      "invalid_request",
    );
    expect(body.error_description.startsWith(`${parameter}:`), body.error_description).toBe(true);
  });

  it("a tampered cursor is a 400 or another position, never a 500", async () => {
    const p = newPrefix();
    for (const s of ["a", "b", "c"]) await create(`${p}-${s}`);
    const { next_cursor: cursor } = await list({ q: p, limit: 1 });
    expect(cursor).toBeTruthy();
    const alphabet = "AZaz09_-.";
    const statuses = new Set<number>();
    for (let i = 0; i < (cursor as string).length; i++) {
      for (const ch of alphabet) {
        const tampered = `${(cursor as string).slice(0, i)}${ch}${(cursor as string).slice(i + 1)}`;
        if (tampered === cursor) continue;
        const res = await adminCall(
          "GET",
          `/admin/users?q=${p}&limit=1&cursor=${encodeURIComponent(tampered)}`,
        );
        statuses.add(res.status);
        if (res.status !== 200) await expectJsonError(res, 400, "invalid_request");
      }
    }
    expect(
      [...statuses].every((s) => s === 200 || s === 400),
      [...statuses].join(),
    ).toBe(true);
    expect(statuses.has(400)).toBe(true);
  });

  it("needs the admin token", async () => {
    expect((await call("/admin/users?q=a")).status).toBe(401);
  });
});
