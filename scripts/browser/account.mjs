/**
 * The user's own account page (issue #17), walked as the demo user would:
 * sign in at /account (the login page, then back), see the apps and the
 * sessions, remove an app (its refresh token then refused at /token, the
 * other app's still working), sign out another session; in light, dark and
 * on a 390 px phone, with every control named, contrast, no horizontal
 * scrolling, no console errors and no request to another origin.
 */
import assert from "node:assert/strict";
import { check, checkClean, DESKTOP, MOBILE, openContext, screenshot, step } from "./harness.mjs";
import { checkConsolePage, checkLooks } from "./looks.mjs";
import { DEMO, refresh, signInAndAllow } from "./oauth.mjs";

/** Signs in at /account by label, and waits for the page. */
async function signInToAccount(page, origin) {
  await page.goto(`${origin}/account`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill(DEMO.user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Your account" }).waitFor();
}

const sessionRows = (page) => page.getByRole("list", { name: "Sessions" }).getByRole("listitem");
const appRow = (page, name) =>
  page
    .getByRole("list", { name: "Apps with access" })
    .getByRole("listitem")
    .filter({
      has: page.locator(".row-title", { hasText: name }),
    });

export async function accountWalk(browser, origin) {
  // Two apps, each allowed in a sign-in of its own (two more sessions of demo's).
  const confidential = await step("setup: demo allows the confidential demo app", () =>
    signInAndAllow(browser, origin, DEMO.user, DEMO.confidential),
  );
  const publicApp = await step("setup: demo allows the public demo app", () =>
    signInAndAllow(browser, origin, DEMO.user, DEMO.public),
  );

  const { context, page, problems } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  await page.goto(`${origin}/account`);
  await check(
    "account: without a session /account is the login page, for the account",
    async () => {
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      assert.match(await page.locator("main").textContent(), /to continue to\s+your account/);
    },
  );
  await checkLooks(page, "account login (light)");
  await step("account: signing in by label comes back to the account page", async () => {
    await page.getByLabel("Username").fill(DEMO.user.username);
    await page.getByLabel("Password").fill(DEMO.user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/account");
  });

  await check(
    "account: it lists both apps, what they may do, and whether they stay connected",
    async () => {
      for (const name of ["Demo Confidential App", "Demo Public App"]) {
        const row = appRow(page, name);
        assert.equal(await row.count(), 1, `one row for ${name}`);
        const text = await row.textContent();
        assert.match(text, /Know who you are/);
        assert.match(text, /Offline access/);
        assert.ok(await row.getByRole("button", { name: `Remove access for ${name}` }).isVisible());
      }
    },
  );
  const before = await sessionRows(page).count();
  await check("account: it lists the sessions, this browser's marked once", async () => {
    assert.ok(before >= 3, `${before} sessions (two sign-ins to apps and this one at least)`);
    assert.equal(await page.locator(".tag", { hasText: "This browser" }).count(), 1);
  });
  await check("account: the password form's fields are reachable by their labels", async () => {
    for (const label of ["Current password", "New password", "New password, again"])
      assert.equal(await page.getByLabel(label, { exact: true }).getAttribute("type"), "password");
  });
  await checkConsolePage(page, "account (light)");
  await screenshot(page, "account-light");

  await step("account: Remove access for the public demo app", async () => {
    await page.getByRole("button", { name: "Remove access for Demo Public App" }).click();
    await page.getByRole("status").waitFor();
  });
  await check("account: a notice says so, and the app is no longer listed", async () => {
    assert.match(await page.getByRole("status").textContent(), /access was removed/);
    assert.equal(await appRow(page, "Demo Public App").count(), 0);
    assert.equal(await appRow(page, "Demo Confidential App").count(), 1);
  });
  await check(
    "account: the removed app's refresh token is refused (invalid_grant), the other's works",
    async () => {
      const removed = await refresh(origin, DEMO.public, publicApp.refresh_token);
      assert.equal(removed.status, 400);
      assert.equal(removed.body.error, "invalid_grant");
      const kept = await refresh(origin, DEMO.confidential, confidential.refresh_token);
      assert.equal(kept.status, 200, JSON.stringify(kept.body));
    },
  );

  await step("account: sign out another session", async () => {
    await page
      .getByRole("button", { name: /^Sign out the session signed in at/ })
      .first()
      .click();
    await page.getByRole("status").waitFor();
  });
  await check("account: a notice says so, and one session fewer is listed", async () => {
    assert.equal(
      (await page.getByRole("status").textContent()).trim(),
      "The session was signed out.",
    );
    assert.equal(await sessionRows(page).count(), before - 1);
  });

  await page.emulateMedia({ colorScheme: "dark" });
  await checkConsolePage(page, "account (dark)");
  await screenshot(page, "account-dark");
  await checkClean(problems, "account walk");
  await context.close();

  const phone = await openContext(browser, origin, {
    viewport: MOBILE,
    colorScheme: "light",
    isMobile: true,
    hasTouch: true,
  });
  await step("account (390px): sign in at /account", () => signInToAccount(phone.page, origin));
  await checkConsolePage(phone.page, "account (390px)");
  await screenshot(phone.page, "account-mobile");
  await checkClean(phone.problems, "account walk (390px)");
  await phone.context.close();
}
