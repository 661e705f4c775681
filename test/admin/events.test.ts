import { describe, expect, it } from "vitest";
import { MAX_PAGE } from "../../src/events/query";
import { eventsOnceStored, listEvents } from "../support/events";
import { registerUser } from "../support/fixtures";
import { adminCall, call, DESCRIPTION_CHARSET } from "../support/http";
import { expectJsonError } from "../support/security";

/**
 * GET /admin/events (src/admin/events.ts): the security-event store through
 * the admin API. Paging by cursor, newest first, with the filters the cursor
 * was given for; and every bad parameter a 400 invalid_request that names it.
 */

/** A user with `n` admin actions on record besides their creation (block, unblock, …). */
async function userWithHistory(n: number) {
  const user = await registerUser();
  for (let i = 0; i < n; i++) {
    const res = await adminCall(
      "POST",
      `/admin/users/${user.id}/${i % 2 === 0 ? "block" : "unblock"}`,
    );
    expect(res.status).toBe(200);
  }
  const stored = await eventsOnceStored({ sub: user.id }, n + 1);
  expect(stored).toHaveLength(n + 1);
  return { user, stored };
}

describe("GET /admin/events", () => {
  it("pages by cursor, newest first, with no duplicate and no gap; the last page has no next_cursor", async () => {
    const { user, stored } = await userWithHistory(6);
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await listEvents({ sub: user.id, limit: "3", ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(stored.map((e) => e.id));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(stored.at(-1)?.type).toBe("user.created");
    expect(stored.slice(0, -1).map((e) => e.type)).toEqual([
      "user.unblocked",
      "user.blocked",
      "user.unblocked",
      "user.blocked",
      "user.unblocked",
      "user.blocked",
    ]);
  });

  it("type= narrows to one event type, together with sub", async () => {
    const { user } = await userWithHistory(3);
    const page = await listEvents({ sub: user.id, type: "user.blocked" });
    expect(page.events.map((e) => e.type)).toEqual(["user.blocked", "user.blocked"]);
    expect(page.next_cursor).toBeUndefined();
  });

  it(`${20} a page by default, at most ${MAX_PAGE}`, async () => {
    const { user } = await userWithHistory(21);
    expect((await listEvents({ sub: user.id })).events).toHaveLength(20);
    expect((await listEvents({ sub: user.id, limit: String(MAX_PAGE) })).events).toHaveLength(22);
  });

  it("needs the admin token", async () => {
    expect((await call("/admin/events")).status).toBe(401);
  });
});

describe("bad parameters are 400 invalid_request, naming the parameter", () => {
  const b64 = (text: string) =>
    btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["sub=", "sub"],
    ["sub=a%20b", "sub"],
    [`sub=${"a".repeat(2_049)}`, "sub"],
    ["sub=a&sub=b", "sub"],
    ["client_id=", "client_id"],
    ["client_id=%C2%A7", "client_id"],
    ["type=token.stolen", "type"],
    ["type=", "type"],
    ["user=x", "user"],
    ["__proto__=1", "__proto__"],
    ["s%C2%A7b=1", "(a parameter)"],
    ["cursor=", "cursor"],
    ["cursor=not%20a%20cursor", "cursor"],
    [`cursor=${b64("[1,2,3]")}`, "cursor"],
    [`cursor=${b64("[0,null,null,null]")}`, "cursor"],
    [`cursor=${b64("[1.5,null,null,null]")}`, "cursor"],
    [`cursor=${b64('[5,null,null,"token.stolen"]')}`, "cursor"],
    [`cursor=${b64('[5,"sub-a",null,null]')}`, "cursor"], // given for another sub
    [`sub=sub-a&cursor=${b64("[5,null,null,null]")}`, "cursor"], // given for no filter
    [`cursor=${b64("\u00ff\u00fe")}`, "cursor"], // not UTF-8
  ])("?%s", async (query, parameter) => {
    const body = await expectJsonError(
      await adminCall("GET", `/admin/events?${query}`),
      400,
      "invalid_request",
    );
    expect(body.error_description.startsWith(`${parameter}:`), body.error_description).toBe(true);
    expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  });

  it("a tampered cursor is a 400 or another position, never a 500", async () => {
    const { user } = await userWithHistory(2);
    const { next_cursor: cursor } = await listEvents({ sub: user.id, limit: "1" });
    expect(cursor).toBeTruthy();
    const statuses = new Set<number>();
    for (let i = 0; i < (cursor as string).length; i++) {
      for (const ch of "AZaz09_-.") {
        const tampered = `${(cursor as string).slice(0, i)}${ch}${(cursor as string).slice(i + 1)}`;
        if (tampered === cursor) continue;
        const res = await adminCall(
          "GET",
          `/admin/events?sub=${user.id}&limit=1&cursor=${encodeURIComponent(tampered)}`,
        );
        statuses.add(res.status);
        if (res.status !== 200) await expectJsonError(res, 400, "invalid_request");
        else await res.arrayBuffer();
      }
    }
    expect(
      [...statuses].every((s) => s === 200 || s === 400),
      [...statuses].join(),
    ).toBe(true);
    expect(statuses.has(400)).toBe(true);
  });
});
