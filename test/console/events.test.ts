import { describe, expect, it } from "vitest";
import { eventsOnceStored } from "../support/events";
import { registerUser } from "../support/fixtures";
import { adminCall } from "../support/http";
import { grantWithRefresh, refreshOk, refreshRefused } from "../support/refresh";
import { ConsoleSession, followDone } from "./support";

/**
 * The Security events page answers "what happened to this user's tokens?"
 * from the event store, through the same listing as GET /admin/events
 * (src/events/listing.ts).
 */

const admin = new ConsoleSession("admin");
const viewer = new ConsoleSession("viewer");

/** The rows of the events table: [type, sub, client_id, actor, request id]. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] as string).matchAll(/<td>([\s\S]*?)<\/td>/g)]
      .slice(1)
      .map((cell) => (cell[1] as string).replace(/<[^>]+>/g, "")),
  );
}

describe("the security events page", () => {
  it("finds the reuse detection a replayed refresh token caused, from the user's page link", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
    await refreshOk(grant.client, grant.refreshToken);
    await refreshRefused(grant.client, grant.refreshToken);
    const [stored] = await eventsOnceStored({ sub: grant.user.id, type: "refresh.reuse_detected" });
    expect(stored).toBeDefined();

    const userPage = await viewer.page(`/console/users/${grant.user.id}`);
    const link = /<a href="([^"]+)" id="user-events">/.exec(userPage)?.[1]?.replace(/&amp;/g, "&");
    const html = await viewer.page(`${link}&type=refresh.reuse_detected`);
    const [row] = rows(html);
    expect(row).toEqual([
      "refresh.reuse_detected",
      grant.user.id,
      grant.client.client_id,
      "—",
      stored?.request_id,
    ]);
    expect(html).toContain(`<time datetime="${stored?.time}">`);
  });

  it("shows who did an admin action in the console: the administrator by name", async () => {
    const user = await registerUser();
    await followDone(admin, await admin.post(`/console/users/${user.id}/block`));
    await eventsOnceStored({ sub: user.id, type: "user.blocked" });
    const html = await admin.page(`/console/events?sub=${user.id}&type=user.blocked`);
    expect(rows(html)[0]?.[3]).toBe(await admin.username());
  });

  it("pages older events with the store's cursor, each once", async () => {
    const user = await registerUser();
    for (let i = 0; i < 11; i++) {
      await adminCall("POST", `/admin/users/${user.id}/block`);
      await adminCall("POST", `/admin/users/${user.id}/unblock`);
    }
    const stored = await eventsOnceStored({ sub: user.id }, 23);
    const first = await admin.page(`/console/events?sub=${user.id}&client_id=&type=`);
    const next = /<a href="([^"]+)" id="next-page"/.exec(first)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toContain("cursor=");
    const second = await admin.page(next as string);
    expect(rows(first).length).toBe(20);
    expect(rows(first).length + rows(second).length).toBe(stored.length);
    expect(rows(first)[0]?.[0]).toBe("user.unblocked"); // newest first
  });

  it("leaves empty filter fields out, and shows a bad filter as a refusal on the page", async () => {
    expect((await admin.request("/console/events?sub=&client_id=&type=")).status).toBe(200);
    const res = await admin.request("/console/events?type=nothing.such");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("type: must be the name of an audit event");
  });
});
