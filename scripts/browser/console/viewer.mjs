/**
 * Walk 7: a viewer (the demo auditor) sees every page, and no control that
 * changes anything: the only POST form is sign-out, no link leads to a page
 * that exists to change something, and such a page, opened by its address,
 * answers 403.
 */
import assert from "node:assert/strict";
import { check, step } from "../harness.mjs";
import { DEMO } from "../oauth.mjs";
import { inspect, member, openSection, signIn, tableRows } from "./support.mjs";

/** What on the page could change something: POST forms but sign-out, links to change pages, fields outside GET forms. */
function mutatingControls() {
  const found = [];
  for (const form of document.querySelectorAll("form")) {
    const action = new URL(form.action, location.href).pathname;
    if (form.method === "post" && action !== "/console/sign-out")
      found.push(`POST form to ${action}`);
  }
  for (const a of document.querySelectorAll("a[href]")) {
    const path = new URL(a.href).pathname;
    if (/\/(new|delete|revoke|secret|password|block|unblock)$/.test(path))
      found.push(`link to ${path}`);
  }
  for (const control of document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button",
  )) {
    const form = control.closest("form");
    const signOut = form && new URL(form.action, location.href).pathname === "/console/sign-out";
    if (!form || (form.method !== "get" && !signOut))
      found.push(
        `<${control.tagName.toLowerCase()}> ${control.id || control.name || control.textContent.trim()}`,
      );
  }
  return found;
}

export async function viewerWalk(origin, session, application) {
  const { page } = session;
  await step("viewer: the auditor signs in", () => signIn(page, origin, DEMO.viewer));
  await check("viewer: the shell names the role", async () => {
    assert.equal((await page.locator("#signed-in-as").textContent()).trim(), "auditor (viewer)");
  });
  const visit = async (label, open, sees) => {
    await open();
    await inspect(session, `viewer: ${label}`);
    await check(
      `viewer: ${label} shows its content and no control that changes anything`,
      async () => {
        await sees();
        assert.deepEqual(await page.evaluate(mutatingControls), []);
      },
    );
  };
  const nav = (name) => () => openSection(page, name);

  await visit("applications", nav("Applications"), async () => {
    assert.ok((await tableRows(page, "applications")).length >= 3);
  });
  await visit(
    "an application",
    async () => {
      await page.getByRole("link", { name: application.name }).click();
      await page.getByRole("heading", { name: application.name, level: 1 }).waitFor();
    },
    async () => {
      const policy = await page.locator("#refresh-policy-summary").textContent();
      assert.match(policy, /Rotation\s*rotate/);
      assert.match(policy, /Grace window\s*0 s/);
    },
  );
  const target = member(777);
  await visit(
    "a user",
    async () => {
      await nav("Users")();
      await page
        .getByLabel("Search (start of the username or email address)")
        .fill(target.username);
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByRole("link", { name: target.username, exact: true }).click();
      await page.getByRole("heading", { name: target.username, level: 1 }).waitFor();
    },
    async () => {
      assert.match(await page.locator("#user-facts").textContent(), new RegExp(target.email));
      assert.equal((await tableRows(page, "grants")).length, 1);
    },
  );
  await visit("signing keys", nav("Signing keys"), async () => {
    const states = (await tableRows(page, "keys")).map((row) => row[1].split(/\s/)[0]);
    assert.ok(states.includes("current") && states.includes("revoked"), states.join(", "));
  });
  await visit("security events", nav("Security events"), async () => {
    assert.ok((await tableRows(page, "events")).length > 0);
  });
  await visit("administrators", nav("Administrators"), async () => {
    const names = (await tableRows(page, "administrators")).map((row) => row[0]);
    assert.deepEqual(names.sort(), ["auditor", "operator"]);
  });

  await session.expectRefusal(403, () => page.goto(new URL("/console/users/new", origin).href));
  await inspect(session, "viewer: the new-user page, opened by its address", 403);
  await check("viewer: a page that exists to change something says no (403)", async () => {
    await page.getByRole("heading", { name: "Not allowed", level: 1 }).waitFor();
    assert.match(await page.locator("main").textContent(), /Your role is viewer/);
  });
}
