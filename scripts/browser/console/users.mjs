/**
 * Walk 2: find one user among 1,000 by the start of their username and by
 * their email address, block them and see their refresh token refused at
 * /token, then unblock them (they can sign in again).
 *
 * Walk 3: a user with two grants; revoking one from their page refuses its
 * refresh token, and the other grant still refreshes.
 */
import assert from "node:assert/strict";
import { check, step } from "../harness.mjs";
import { DEMO, refresh, signInAndAllow } from "../oauth.mjs";
import { inspect, member, notice, openSection, tableRows } from "./support.mjs";

/** Searches the Users page as an operator does: the query, "Search by", the Search button. */
async function search(page, q, by) {
  await page.getByLabel("Search (start of the username or email address)").fill(q);
  await page.getByLabel("Search by").selectOption({ label: by });
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL((url) => url.searchParams.get("q") === q);
}

const refused = async (origin, client, token) => {
  const { status, body } = await refresh(origin, client, token);
  assert.equal(status, 400, JSON.stringify(body));
  assert.equal(body.error, "invalid_grant");
};

export async function findAndBlockWalk(browser, origin, session) {
  const { page } = session;
  const target = member(421);
  const tokens = await step(`code flow: ${target.username} signs in to the demo application`, () =>
    signInAndAllow(browser, origin, target, DEMO.confidential),
  );

  await openSection(page, "Users");
  await inspect(session, "users");
  await check("users: the first page holds 20 of the 1,001 users and links the next", async () => {
    assert.equal((await tableRows(page, "users")).length, 20);
    assert.ok(await page.getByRole("link", { name: "Next page" }).isVisible());
  });

  await search(page, "member-042", "Username");
  await inspect(session, "users, searched by username");
  await check(
    "users: the start of a username finds its ten users, the one sought among them",
    async () => {
      const names = (await tableRows(page, "users")).map((row) => row[0]);
      assert.deepEqual(
        names,
        Array.from({ length: 10 }, (_, i) => `member-042${i}`),
      );
    },
  );

  await search(page, "PERSON0421@", "Email address");
  await inspect(session, "users, searched by email");
  await check("users: the start of an email address (any case) finds the one user", async () => {
    const rows = await tableRows(page, "users");
    assert.deepEqual(
      rows.map((row) => [row[0], row[2], row[3]]),
      [[target.username, target.email, "active"]],
    );
  });

  await page.getByRole("link", { name: target.username, exact: true }).click();
  await page.getByRole("heading", { name: target.username, level: 1 }).waitFor();
  await inspect(session, "user");
  await check("user: one live grant, to the demo application", async () => {
    const rows = await tableRows(page, "grants");
    assert.equal(rows.length, 1);
    assert.equal(rows[0][0], "Demo Confidential App");
  });

  await page.getByRole("button", { name: "Block", exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get("done") === "blocked");
  await inspect(session, "user, blocked");
  await check("user: blocking says so, and the state is blocked", async () => {
    assert.match(await notice(page), /The user was blocked/);
    assert.equal(await page.locator("#user-facts .badge").textContent(), "blocked");
    assert.match(await page.locator("main").textContent(), /No live grants/);
  });
  await check("block: the user's refresh token is refused at /token (invalid_grant)", () =>
    refused(origin, DEMO.confidential, tokens.refresh_token),
  );

  await page.getByRole("button", { name: "Unblock", exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get("done") === "unblocked");
  await inspect(session, "user, unblocked");
  await check("user: unblocking says so, and the state is active", async () => {
    assert.match(await notice(page), /The user was unblocked/);
    assert.equal(await page.locator("#user-facts .badge").textContent(), "active");
  });
  await check("unblock: the old refresh token stays refused; a new sign-in works", async () => {
    await refused(origin, DEMO.confidential, tokens.refresh_token);
    const again = await signInAndAllow(browser, origin, target, DEMO.confidential);
    assert.match(again.refresh_token, /^rt1\./);
  });
}

export async function revokeGrantWalk(browser, origin, session) {
  const { page } = session;
  const target = member(777);
  const kept = await step(`code flow: ${target.username} signs in to the demo application`, () =>
    signInAndAllow(browser, origin, target, DEMO.confidential),
  );
  const revoked = await step(
    `code flow: ${target.username} signs in to the public demo app too`,
    () => signInAndAllow(browser, origin, target, DEMO.public),
  );

  await openSection(page, "Users");
  await search(page, target.username, "Username");
  await page.getByRole("link", { name: target.username, exact: true }).click();
  await page.getByRole("heading", { name: target.username, level: 1 }).waitFor();
  await inspect(session, "user with two grants");
  await check(
    "user: two grants, one per application, each with its own Revoke button",
    async () => {
      const apps = (await tableRows(page, "grants")).map((row) => row[0]).sort();
      assert.deepEqual(apps, ["Demo Confidential App", "Demo Public App"]);
      assert.equal(await page.getByRole("button", { name: /^Revoke the grant to / }).count(), 2);
    },
  );

  await page.getByRole("button", { name: /^Revoke the grant to Demo Public App/ }).click();
  await page.waitForURL((url) => url.searchParams.get("done") === "grant-revoked");
  await inspect(session, "user, one grant revoked");
  await check("user: the revoked grant is gone, the other listed", async () => {
    assert.match(await notice(page), /The grant was revoked/);
    const apps = (await tableRows(page, "grants")).map((row) => row[0]);
    assert.deepEqual(apps, ["Demo Confidential App"]);
  });
  await check("revoke one: its refresh token is refused at /token (invalid_grant)", () =>
    refused(origin, DEMO.public, revoked.refresh_token),
  );
  await check("revoke one: the other grant still refreshes", async () => {
    const { status, body } = await refresh(origin, DEMO.confidential, kept.refresh_token);
    assert.equal(status, 200, JSON.stringify(body));
  });
}
