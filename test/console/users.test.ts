import { describe, expect, it } from "vitest";
import { Browser, codeFlow, signInAndAuthorize } from "../support/browser";
import { registerClient, registerUser } from "../support/fixtures";
import { adminCall, json } from "../support/http";
import { grantWithRefresh, refreshOk, refreshRefused } from "../support/refresh";
import { ConsoleSession, fieldErrorOf, followDone } from "./support";

/**
 * The users' pages do what the admin API does, through the same service
 * (src/users/administration.ts): a block, a revocation or a new password
 * made here is in force when the page that says so is shown.
 */

const admin = new ConsoleSession("admin");

const userIdFrom = (location: string) => /\/console\/users\/([0-9a-f-]{36})/.exec(location)?.[1];

describe("creating a user", () => {
  it("303s to the user's page, which says so, and the directory lists them by name and by email", async () => {
    const username = `ada${crypto.randomUUID().slice(0, 8)}`;
    const res = await admin.post("/console/users", {
      username,
      password: "correct horse battery staple",
      name: "Ada Lovelace",
      email: `${username}@Example.test`,
      email_verified: "on",
    });
    const id = userIdFrom(res.headers.get("location") ?? "");
    expect(id).toBeTruthy();
    const page = await followDone(admin, res);
    expect(page).toContain("The user was created.");
    expect(page).toContain("Ada Lovelace");

    const byName = await admin.page(`/console/users?q=${username.toUpperCase()}`);
    expect(byName).toContain(`href="/console/users/${id}"`);
    const byEmail = await admin.page(`/console/users?by=email&q=${username}@example`);
    expect(byEmail).toContain(`href="/console/users/${id}"`);
    expect(await admin.page(`/console/users?q=zz${username}`)).toContain("No user matches.");
  });

  it("shows a refusal under its field, keeps what was typed, and never sends the password back", async () => {
    const res = await admin.post("/console/users", {
      username: "has space",
      password: "typed-password-123",
      name: "Kept Name",
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(fieldErrorOf(html, "username")).toBe(
      "username: may contain letters, digits and . _ @ + - only.",
    );
    expect(html).toContain('value="Kept Name"');
    expect(html).not.toContain("typed-password-123");

    const taken = await registerUser();
    const again = await admin.post("/console/users", {
      username: taken.username,
      password: "correct horse battery staple",
    });
    expect(again.status).toBe(409);
    expect(fieldErrorOf(await again.text(), "username")).toBe("username: is already taken.");
  });
});

describe("the users list", () => {
  it("pages with the directory's cursor: each user once, in username order, across pages", async () => {
    const prefix = `pg${crypto.randomUUID().slice(0, 6)}`;
    const names = Array.from({ length: 23 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    await Promise.all(names.map((username) => registerUser({ username })));
    const first = await admin.page(`/console/users?q=${prefix}`);
    const next = /<a href="([^"]+)" id="next-page"/.exec(first)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toContain("cursor=");
    const second = await admin.page(next as string);
    expect(second).not.toContain('id="next-page"');
    const listed = (html: string) =>
      [...html.matchAll(new RegExp(`>(${prefix}-\\d\\d)</a>`, "g"))].map((m) => m[1]);
    expect([...listed(first), ...listed(second)]).toEqual(names);
  });

  it("refuses a forged cursor on the page (400), not with a 500 or JSON", async () => {
    const res = await admin.request("/console/users?cursor=not-a-cursor");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("cursor: is not one this listing gave out");
  });
});

describe("a user's page", () => {
  it("blocks: sign-in and refresh are refused at once; unblocking lets them sign in again", async () => {
    const grant = await grantWithRefresh();
    const html = await followDone(admin, await admin.post(`/console/users/${grant.user.id}/block`));
    expect(html).toContain("The user was blocked");
    expect(html).toContain('id="unblock-user"');
    await refreshRefused(grant.client, grant.refreshToken);

    await followDone(admin, await admin.post(`/console/users/${grant.user.id}/unblock`));
    const tokens = await codeFlow(grant.client, grant.user, { scope: "openid offline_access" });
    await refreshOk(grant.client, tokens.refresh_token as string);
  });

  it("lists the grants (application, scopes, times); revoking one ends its refresh token only", async () => {
    const client = await registerClient({ consent: "implicit", client_name: "Grant Viewer App" });
    const user = await registerUser();
    const one = await codeFlow(client, user, { scope: "openid offline_access" });
    const two = await codeFlow(client, user, { scope: "openid profile offline_access" });
    const page = await admin.page(`/console/users/${user.id}`);
    expect(page).toContain("Grants (2)");
    expect(page).toContain("Grant Viewer App");
    expect(page).toContain("openid profile offline_access");
    const familyOf = (token: string) => token.split(".")[1] as string;
    const res = await admin.post(
      `/console/users/${user.id}/grants/${familyOf(one.refresh_token as string)}/revoke`,
    );
    expect(await followDone(admin, res)).toContain("Grants (1)");
    await refreshRefused(client, one.refresh_token);
    await refreshOk(client, two.refresh_token as string);

    const all = await admin.post(`/console/users/${user.id}/grants/revoke-all`);
    expect(await followDone(admin, all)).toContain("No live grants.");
    await refreshRefused(client, two.refresh_token);
  });

  it("sets a password: the new one signs in, and the grants are revoked", async () => {
    const grant = await grantWithRefresh();
    const res = await admin.post(`/console/users/${grant.user.id}/password`, {
      password: "a brand new passphrase",
    });
    expect(await followDone(admin, res)).toContain("the user&#39;s grants were revoked");
    await refreshRefused(grant.client, grant.refreshToken);
    const redirect = await signInAndAuthorize(new Browser(), grant.client, {
      ...grant.user,
      password: "a brand new passphrase",
    });
    expect(redirect.searchParams.get("code")).toBeTruthy();
  });

  it("edits the profile, and shows a bad email under the email field with what was typed", async () => {
    const user = await registerUser();
    await followDone(
      admin,
      await admin.post(`/console/users/${user.id}`, { name: "New Name", email: "" }),
    );
    const view = await json<{ name: string; email: string | null }>(
      await adminCall("GET", `/admin/users/${user.id}`),
    );
    expect(view).toMatchObject({ name: "New Name", email: null });

    const bad = await admin.post(`/console/users/${user.id}`, { name: "Typed", email: "nope" });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(fieldErrorOf(html, "email")).toBe("email: must be an email address.");
    expect(html).toContain('value="nope"');
    expect(html).toContain('value="Typed"');
  });

  it("links to the user's security events", async () => {
    const user = await registerUser();
    expect(await admin.page(`/console/users/${user.id}`)).toContain(
      `href="/console/events?sub=${user.id}"`,
    );
  });

  it("deletes only after a confirmation naming the grants that die; then the user is gone", async () => {
    const grant = await grantWithRefresh();
    const confirm = await admin.page(`/console/users/${grant.user.id}/delete`);
    expect(confirm).toContain("Its 1 live grant is revoked first");
    const list = await followDone(
      admin,
      await admin.post(`/console/users/${grant.user.id}/delete`),
    );
    expect(list).toContain("The user was deleted");
    await refreshRefused(grant.client, grant.refreshToken);
    await admin.page(`/console/users/${grant.user.id}`, 404);
  });
});
