import { describe, expect, it } from "vitest";
import { FREE_ATTEMPTS } from "../../src/users/username";
import { loginPage } from "../support/authorize";
import { eventsOnceStored } from "../support/events";
import { type RegisteredClient, registerClient, registerUser } from "../support/fixtures";
import { adminCall, basic, call, postForm } from "../support/http";
import { grantWithRefresh, refreshOk, refreshRefused } from "../support/refresh";

/**
 * What reaches the security-event store (src/events/), end to end: the real
 * Worker and objects write it off the requests' path, and the admin API finds
 * it by user, by client and by type. Each scenario uses its own client and
 * user, so its filters see only its own events.
 */

const types = (events: { type: string }[]) => events.map((e) => e.type);

describe("security events recorded", () => {
  it("a replayed refresh token past the grace window: refresh.reuse_detected, with the family id, found by sub and by client_id", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
    await refreshOk(grant.client, grant.refreshToken);
    await refreshRefused(grant.client, grant.refreshToken);

    const bySub = await eventsOnceStored({ sub: grant.user.id, type: "refresh.reuse_detected" });
    expect(bySub).toHaveLength(1);
    expect(bySub[0]).toMatchObject({
      type: "refresh.reuse_detected",
      level: "warn",
      sub: grant.user.id,
      client_id: grant.client.client_id,
      family_id: grant.familyId,
      details: { reason: "refresh_token_reuse" },
    });
    expect(bySub[0]?.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // The family's revocation is its own event; the client's filter finds both,
    // newest first, after the client's registration (an admin action).
    const byClient = await eventsOnceStored({ client_id: grant.client.client_id }, 3);
    expect(types(byClient)).toEqual(["family.revoked", "refresh.reuse_detected", "client.created"]);
    expect(byClient.slice(0, 2).every((e) => e.family_id === grant.familyId)).toBe(true);
  });

  it("the previous token again within the grace window: refresh.grace_used, no revocation", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 30 } } });
    await refreshOk(grant.client, grant.refreshToken);
    await refreshOk(grant.client, grant.refreshToken); // a lost response retried
    const events = await eventsOnceStored({ client_id: grant.client.client_id }, 2);
    expect(types(events)).toEqual(["refresh.grace_used", "client.created"]);
    expect(events[0]).toMatchObject({ sub: grant.user.id, family_id: grant.familyId });
    expect(events[0]?.details.sinceRotationMs).toEqual(expect.any(Number));
  });

  it("failed sign-ins and the lock-out they cause, by the account's sub (never the name as typed)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      const res = await browser.submit(html, { username: user.username, password: "wrong" });
      await res.arrayBuffer();
    }
    // The account's creation, each failure, and the lock-out of the last one.
    const events = await eventsOnceStored({ sub: user.id }, FREE_ATTEMPTS + 2);
    expect(types(events).at(-1)).toBe("user.created");
    expect(types(events).filter((t) => t === "user.login_failed")).toHaveLength(FREE_ATTEMPTS);
    const lockedOut = events.filter((e) => e.type === "user.locked_out");
    expect(lockedOut).toHaveLength(1);
    expect(lockedOut[0]).toMatchObject({ level: "warn", details: { failures: FREE_ATTEMPTS } });
    expect(JSON.stringify(events)).not.toContain(user.username);
    const byType = await eventsOnceStored({ type: "user.locked_out", sub: user.id });
    expect(byType.map((e) => e.id)).toEqual(lockedOut.map((e) => e.id));
  });

  it("a failed client authentication at /token: client.auth_failed naming the client and endpoint; an unknown client_id is not written down", async () => {
    const client: RegisteredClient = await registerClient();
    const wrong = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: basic(client.client_id, "not-the-secret") },
    );
    expect(wrong.status).toBe(401);
    const events = await eventsOnceStored({ client_id: client.client_id }, 2);
    expect(types(events)).toEqual(["client.auth_failed", "client.created"]);
    expect(events[0]).toMatchObject({
      type: "client.auth_failed",
      level: "warn",
      client_id: client.client_id,
      details: { endpoint: "token" },
    });

    const stranger = `typed-${crypto.randomUUID()}`;
    const unknown = await postForm(
      "/token",
      { grant_type: "client_credentials" },
      { Authorization: basic(stranger, "whatever") },
    );
    expect(unknown.status).toBe(401);
    const failures = await eventsOnceStored({ type: "client.auth_failed" }, 2);
    const mine = failures.find((e) => e.request_id === unknown.headers.get("X-Request-Id"));
    expect(mine).toMatchObject({ details: { endpoint: "token", client: "unknown" } });
    expect(mine?.client_id).toBeUndefined();
    expect(JSON.stringify(failures)).not.toContain(stranger);
  });

  it("an admin action with its actor, and a failed admin authentication", async () => {
    const user = await registerUser();
    const blocked = await adminCall("POST", `/admin/users/${user.id}/block`);
    expect(blocked.status).toBe(200);
    const events = await eventsOnceStored({ sub: user.id }, 2);
    expect(types(events)).toEqual(["user.blocked", "user.created"]);
    expect(events.every((e) => e.actor === "admin-token")).toBe(true);
    expect(events[0]?.request_id).toBe(blocked.headers.get("X-Request-Id"));

    const refused = await postForm("/admin/keys/rotate", {}, { Authorization: "Bearer wrong" });
    expect(refused.status).toBe(401);
    const failures = await eventsOnceStored({ type: "admin.auth_failed" });
    expect(failures.map((e) => e.request_id)).toContain(refused.headers.get("X-Request-Id"));
  });

  it("an administrator's failed sign-in (HTTP Basic, in the Administrators object) is administrator.login_failed", async () => {
    const username = `events-admin-${crypto.randomUUID().slice(0, 8)}`;
    const password = "a long administrator passphrase";
    const created = await adminCall("POST", "/admin/administrators", {
      username,
      password,
      role: "admin",
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const refused = await call("/admin/keys", {
      headers: {
        Authorization: basic(username, "not the passphrase"),
        "CF-Connecting-IP": "203.0.113.77",
      },
    });
    expect(refused.status).toBe(401);
    const failures = await eventsOnceStored({ type: "administrator.login_failed" });
    expect(failures.map((e) => e.request_id)).toContain(refused.headers.get("X-Request-Id"));
    expect(JSON.stringify(failures)).not.toContain("not the passphrase");
  });
});
