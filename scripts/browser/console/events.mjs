/**
 * Walk 5: the replay of walk 1 (a rotated refresh token presented again
 * outside its grace window) is found where an operator asks "what happened
 * to this user's tokens?": from the user's page to the Security events,
 * filtered to the user, then to the type, then to the application.
 */
import assert from "node:assert/strict";
import { check, step } from "../harness.mjs";
import { DEMO } from "../oauth.mjs";
import { inspect, openSection, tableRows } from "./support.mjs";

/** The events table as { type, user, client } rows. */
async function events(page) {
  return (await tableRows(page, "events")).map(([, type, user, client]) => ({
    type,
    user,
    client,
  }));
}

export async function reuseEventWalk(session, application) {
  const { page } = session;
  await openSection(page, "Users");
  await page.getByLabel("Search (start of the username or email address)").fill(DEMO.user.username);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: DEMO.user.username, exact: true }).click();
  await page.getByRole("heading", { name: DEMO.user.username, level: 1 }).waitFor();
  const sub = (await page.locator("#user-facts code").textContent()).trim();

  await page.getByRole("link", { name: /What happened to this user's tokens/ }).click();
  await page.getByRole("heading", { name: "Security events", level: 1 }).waitFor();
  await inspect(session, "security events of a user");
  await check("events: the page is filtered to the user, and lists only their events", async () => {
    assert.equal(await page.getByLabel("User (sub)").inputValue(), sub);
    const rows = await events(page);
    assert.ok(rows.length > 0);
    assert.deepEqual([...new Set(rows.map((row) => row.user))], [sub]);
  });

  await page.getByLabel("Type").selectOption("refresh.reuse_detected");
  // The store is written off the request's path: an event shows a moment after its request.
  const rows = await step(
    "events: filtered by type, the replay's refresh.reuse_detected is listed",
    async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        await page.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL((url) => url.searchParams.get("type") === "refresh.reuse_detected");
        const found = (await events(page)).filter((row) => row.client === application.clientId);
        if (found.length > 0 || Date.now() > deadline) {
          assert.equal(found.length, 1, "one reuse detection for the walk's application");
          return found;
        }
        await page.waitForTimeout(500);
      }
    },
  );
  await inspect(session, "security events, by user and type");
  await check("events: every row listed is a reuse detection of this user", () => {
    assert.deepEqual(rows, [
      { type: "refresh.reuse_detected", user: sub, client: application.clientId },
    ]);
  });

  await page.getByRole("link", { name: application.clientId }).click();
  await page.waitForURL((url) => url.searchParams.get("client_id") === application.clientId);
  await inspect(session, "security events, by user, type and application");
  await check("events: filtered to the application too, the event is still there", async () => {
    assert.equal(
      await page.getByLabel("Application (client_id)").inputValue(),
      application.clientId,
    );
    assert.deepEqual(await events(page), rows);
  });
}
