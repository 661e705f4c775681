/**
 * Walk 1: an operator signs in, creates an application with a refresh policy
 * (rotation with no grace window), notes its secret (shown once), and sees a
 * refresh honour that policy: a rotated token presented again at once is a
 * replay, not a retry, and the whole grant dies. The demo application, on
 * the provider's default grace window (5 s), answers the same replay with
 * the same successor: it is the policy that made the difference.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { check, step } from "../harness.mjs";
import { DEMO, refresh, signInAndAllow } from "../oauth.mjs";
import { inspect, signIn } from "./support.mjs";

export async function applicationWalk(browser, origin, session) {
  const { page } = session;
  await page.goto(new URL("/console/sign-in", origin).href);
  await inspect(session, "console sign-in");
  await step("console: an administrator signs in by the fields' labels", () =>
    signIn(page, origin, DEMO.administrator),
  );
  await check("console: the shell says who is signed in, and in which role", async () => {
    assert.equal((await page.locator("#signed-in-as").textContent()).trim(), "operator (admin)");
  });
  await inspect(session, "applications");

  await page.getByRole("link", { name: "New application" }).click();
  await page.getByRole("heading", { name: "New application", level: 1 }).waitFor();
  await inspect(session, "new application");

  const name = `Walk Calendar ${randomBytes(3).toString("hex")}`;
  await step(
    "new application: name, redirect URI and refresh policy filled in by label",
    async () => {
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Redirect URIs", { exact: true }).fill(`${origin}/dev/callback`);
      await page
        .getByLabel("Rotation")
        .selectOption({ label: "Rotate: a new refresh token on every refresh" });
      await page.getByLabel("Grace window (seconds)").fill("0");
      // The form's defaults: a confidential client, the code flow and refresh, the OIDC scopes.
      assert.equal(
        await page.getByLabel("Client authentication").inputValue(),
        "client_secret_basic",
      );
      assert.ok(await page.getByLabel("Refresh token", { exact: true }).isChecked());
      assert.ok(await page.getByRole("checkbox", { name: "offline_access" }).isChecked());
      await page.getByRole("button", { name: "Create application" }).click();
      await page.getByRole("heading", { name: `${name} was created` }).waitFor();
    },
  );
  await inspect(session, "application created (its secret)");
  const client = await step(
    "application created: the secret is shown once, with a Copy button",
    async () => {
      const clientId = (await page.locator("#client-id").textContent()).trim();
      const secret = await page.getByLabel("Client secret").inputValue();
      assert.match(clientId, /\S{8,}/);
      assert.ok(secret.length >= 32, `a secret of ${secret.length} characters`);
      assert.match(await page.getByRole("alert").textContent(), /only time the secret is shown/);
      // The copy script ran under the page's CSP (allowed by its hash): it shows the button.
      assert.ok(await page.getByRole("button", { name: "Copy" }).isVisible());
      return { clientId, secret };
    },
  );

  await page.getByRole("link", { name: "Done" }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  await inspect(session, "application");
  await check(
    "application: the saved policy is what was chosen, and the secret is not on the page",
    async () => {
      assert.equal(await page.getByLabel("Rotation").inputValue(), "rotate");
      assert.equal(await page.getByLabel("Grace window (seconds)").inputValue(), "0");
      assert.equal(await page.getByLabel("Issue refresh tokens").inputValue(), "");
      assert.ok(!(await page.content()).includes(client.secret));
    },
  );

  // Outside the browser: the demo user signs in to it, and the client refreshes.
  const tokens = await step("code flow: demo signs in to the new application and allows it", () =>
    signInAndAllow(browser, origin, DEMO.user, client),
  );
  const first = tokens.refresh_token;
  const rotated = await step(
    "refresh: a new refresh token, the old one spent (rotation)",
    async () => {
      const { status, body } = await refresh(origin, client, first);
      assert.equal(status, 200, JSON.stringify(body));
      assert.match(body.refresh_token, /^rt1\./);
      assert.notEqual(body.refresh_token, first);
      return body.refresh_token;
    },
  );
  await check(
    "refresh: the spent token, presented again at once, is refused (grace window 0)",
    async () => {
      const { status, body } = await refresh(origin, client, first);
      assert.equal(status, 400);
      assert.equal(body.error, "invalid_grant");
    },
  );
  await check(
    "refresh: that replay revoked the grant: its newest token is refused too",
    async () => {
      const { status, body } = await refresh(origin, client, rotated);
      assert.equal(status, 400);
      assert.equal(body.error, "invalid_grant");
    },
  );
  await check(
    "refresh: on the provider default (5 s grace), the same replay gets the same successor",
    async () => {
      const demo = await signInAndAllow(browser, origin, DEMO.user, DEMO.confidential);
      const next = await refresh(origin, DEMO.confidential, demo.refresh_token);
      assert.equal(next.status, 200, JSON.stringify(next.body));
      const again = await refresh(origin, DEMO.confidential, demo.refresh_token);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.refresh_token, next.body.refresh_token);
    },
  );
  return { ...client, name };
}
