import { describe, expect, it } from "vitest";
import type { UserView } from "../../src/users/model";
import {
  authorizationCode,
  isLoginPage,
  loginPage,
  redeemCode,
  redirectTarget,
} from "../support/authorize";
import { authorizeUrl, type Browser, pkce } from "../support/browser";
import {
  introspect,
  type RegisteredClient,
  registerClient,
  registerUser,
} from "../support/fixtures";
import { ADMIN_TOKEN, adminCall, call, fetchWith, json } from "../support/http";
import {
  grantWithRefresh,
  refresh,
  refreshOk,
  refreshRefused,
  storedFamily,
} from "../support/refresh";

/**
 * /admin/users: accounts are created, read, looked up, changed, deleted,
 * given a new password, blocked and unblocked by the operator. Each change
 * is in force the moment the call returns (one Durable Object per user).
 */

const uniqueName = () => `admin-${crypto.randomUUID().slice(0, 12)}`;

async function createUser(body: Record<string, unknown>): Promise<Response> {
  return adminCall("POST", "/admin/users", body);
}

/** The 400 of a bad admin body: invalid_request, with a description naming the field. */
async function expectFieldError(res: Response, field: string): Promise<void> {
  expect(res.status).toBe(400);
  const body = await json<{ error: string; error_description: string }>(res);
  expect(body.error).toBe("invalid_request");
  expect(body.error_description.startsWith(`${field}:`), body.error_description).toBe(true);
}

/** Tries the login form once; returns the response to the form post. */
async function tryLogin(client: RegisteredClient, username: string, password: string) {
  const { browser, html } = await loginPage(client, { challenge: (await pkce()).challenge });
  return browser.submit(html, { username, password });
}

/** Whether a browser's session still authorizes: a code at once, or the login form. */
async function sessionAuthorizes(browser: Browser, client: RegisteredClient): Promise<boolean> {
  const res = await browser.get(authorizeUrl(client, { challenge: (await pkce()).challenge }));
  if (res.status === 302) return redirectTarget(res).searchParams.has("code");
  expect(isLoginPage(await res.text())).toBe(true);
  return false;
}

/** A user with a live grant (access + refresh token) and a browser holding a session. */
async function userWithGrant() {
  const client = await registerClient({ consent: "implicit" });
  const user = await registerUser();
  const { code, verifier, browser } = await authorizationCode(client, user);
  const tokens = await json<{ access_token: string; refresh_token: string }>(
    await redeemCode(client, code, verifier),
  );
  expect(tokens.refresh_token).toBeTruthy();
  return { client, user, browser, tokens };
}

describe("the admin API needs the admin token", () => {
  it("refuses a missing or wrong bearer token with 401 and a challenge", async () => {
    const missing = await call("/admin/users?username=anyone");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await call("/admin/users?username=anyone", {
      headers: { Authorization: "Bearer not-the-admin-token" },
    });
    expect(wrong.status).toBe(401);
  });
});

describe("creating a user", () => {
  it("returns 201 with the account, its username normalised, and never the password", async () => {
    const username = uniqueName();
    const res = await createUser({
      username: username.toUpperCase(),
      password: "a long enough password",
      name: "Grace Hopper",
      email: "grace@example.test",
      email_verified: true,
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain("a long enough password");
    expect(text).not.toMatch(/pbkdf2|salt|hash/i);
    const user = JSON.parse(text) as UserView;
    expect(user).toMatchObject({
      username,
      name: "Grace Hopper",
      email: "grace@example.test",
      email_verified: true,
      blocked: false,
    });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(user.created_at).toBeGreaterThan(0);
  });

  it("refuses a username that is taken, whatever its case, with 409", async () => {
    const username = uniqueName();
    expect((await createUser({ username, password: "password-1234" })).status).toBe(201);
    for (const again of [username, username.toUpperCase()]) {
      const res = await createUser({ username: again, password: "password-5678" });
      expect(res.status).toBe(409);
      expect((await json(res)).error_description).toMatch(/^username:/);
    }
  });

  it("refuses bad input with a 400 that names the field", async () => {
    const username = uniqueName();
    const password = "password-1234";
    await expectFieldError(await createUser({ password }), "username");
    await expectFieldError(await createUser({ username: "has space", password }), "username");
    await expectFieldError(await createUser({ username: 42, password }), "username");
    await expectFieldError(await createUser({ username }), "password");
    await expectFieldError(await createUser({ username, password: "short" }), "password");
    await expectFieldError(
      await createUser({ username, password, email: "not-an-address" }),
      "email",
    );
    await expectFieldError(
      await createUser({ username, password, email_verified: "yes" }),
      "email_verified",
    );
    await expectFieldError(await createUser({ username, password, role: "admin" }), "role");
    await expectFieldError(await adminCall("POST", "/admin/users", ["a", "list"]), "body");
    // None of these created the account.
    expect((await adminCall("GET", `/admin/users?username=${username}`)).status).toBe(404);
  });

  it("refuses a body that is not JSON", async () => {
    const res = await call("/admin/users", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        "Content-Type": "application/json",
      },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("invalid_request");
  });
});

describe("reading and looking up a user", () => {
  it("GET /admin/users/{id} returns the account", async () => {
    const user = await registerUser({ name: "Read Me" });
    const res = await adminCall("GET", `/admin/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: user.id,
      username: user.username,
      name: "Read Me",
    });
  });

  it("an unknown or malformed id is 404", async () => {
    expect((await adminCall("GET", `/admin/users/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await adminCall("GET", "/admin/users/not-an-id")).status).toBe(404);
  });

  it("?username= finds the account, case-insensitively", async () => {
    const user = await registerUser();
    const res = await adminCall("GET", `/admin/users?username=${user.username.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect((await json(res)).id).toBe(user.id);
  });

  it("?username= of nobody is 404; an empty one, or one with other parameters, is 400", async () => {
    expect((await adminCall("GET", `/admin/users?username=${uniqueName()}`)).status).toBe(404);
    expect((await adminCall("GET", "/admin/users?username=")).status).toBe(400);
    expect((await adminCall("GET", "/admin/users?username=demo&limit=5")).status).toBe(400);
  });
});

describe("updating a user", () => {
  it("changes the profile; a new email is unverified unless said otherwise", async () => {
    const user = await registerUser({ email_verified: true });
    const res = await adminCall("PATCH", `/admin/users/${user.id}`, {
      name: "New Name",
      email: "new@example.test",
    });
    expect(res.status).toBe(200);
    const view = await json<UserView>(res);
    expect(view).toMatchObject({ name: "New Name", email: "new@example.test" });
    expect(view.email_verified).toBe(false);
    const verified = await adminCall("PATCH", `/admin/users/${user.id}`, { email_verified: true });
    expect((await json<UserView>(verified)).email_verified).toBe(true);
    // Read back: the change was stored.
    const read = await json<UserView>(await adminCall("GET", `/admin/users/${user.id}`));
    expect(read).toMatchObject({ name: "New Name", email_verified: true });
  });

  it("removes a field set to null", async () => {
    const user = await registerUser({ name: "To Remove" });
    const res = await adminCall("PATCH", `/admin/users/${user.id}`, { name: null });
    expect((await json<UserView>(res)).name).toBeNull();
  });

  it("cannot change the username or password this way (400 naming the field)", async () => {
    const user = await registerUser();
    await expectFieldError(
      await adminCall("PATCH", `/admin/users/${user.id}`, { username: "other" }),
      "username",
    );
    await expectFieldError(
      await adminCall("PATCH", `/admin/users/${user.id}`, { password: "new password 123" }),
      "password",
    );
  });

  it("of an unknown user is 404", async () => {
    const res = await adminCall("PATCH", `/admin/users/${crypto.randomUUID()}`, { name: "x" });
    expect(res.status).toBe(404);
  });
});

describe("setting a password", () => {
  it("the old password stops working and the new one works", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const res = await adminCall("PUT", `/admin/users/${user.id}/password`, {
      password: "a brand new password",
    });
    expect(res.status).toBe(204);
    expect((await tryLogin(client, user.username, user.password)).status).toBe(401);
    const ok = await tryLogin(client, user.username, "a brand new password");
    expect(redirectTarget(ok).searchParams.get("code")).toBeTruthy();
  });

  it("ends every login session of the user", async () => {
    const { client, user, browser } = await userWithGrant();
    expect(await sessionAuthorizes(browser, client)).toBe(true);
    await adminCall("PUT", `/admin/users/${user.id}/password`, { password: "another password" });
    expect(await sessionAuthorizes(browser, client)).toBe(false);
  });

  it("refuses a password that is too short (400 naming the field), and keeps the old one", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    await expectFieldError(
      await adminCall("PUT", `/admin/users/${user.id}/password`, { password: "short" }),
      "password",
    );
    const ok = await tryLogin(client, user.username, user.password);
    expect(redirectTarget(ok).searchParams.get("code")).toBeTruthy();
  });

  it("of an unknown user is 404", async () => {
    const res = await adminCall("PUT", `/admin/users/${crypto.randomUUID()}/password`, {
      password: "a fine password",
    });
    expect(res.status).toBe(404);
  });
});

describe("blocking a user", () => {
  it("is in force when the call returns: the user cannot sign in", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const res = await adminCall("POST", `/admin/users/${user.id}/block`);
    expect(res.status).toBe(200);
    expect((await json<UserView>(res)).blocked).toBe(true);
    const login = await tryLogin(client, user.username, user.password);
    expect(login.status).toBe(403);
    expect(await login.text()).toContain("This account is blocked");
  });

  it("an existing session no longer authorizes, and the user's tokens are revoked", async () => {
    const { client, user, browser, tokens } = await userWithGrant();
    expect(await sessionAuthorizes(browser, client)).toBe(true);
    await adminCall("POST", `/admin/users/${user.id}/block`);
    expect(await sessionAuthorizes(browser, client)).toBe(false);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    expect((await refresh(client, tokens.refresh_token)).status).toBe(400);
  });

  it("unblocking lets the user sign in again; the revoked grants stay revoked", async () => {
    const { client, user, tokens } = await userWithGrant();
    await adminCall("POST", `/admin/users/${user.id}/block`);
    const res = await adminCall("POST", `/admin/users/${user.id}/unblock`);
    expect(res.status).toBe(200);
    expect((await json<UserView>(res)).blocked).toBe(false);
    const login = await tryLogin(client, user.username, user.password);
    expect(redirectTarget(login).searchParams.get("code")).toBeTruthy();
    expect((await refresh(client, tokens.refresh_token)).status).toBe(400);
  });

  it("of an unknown user is 404", async () => {
    expect((await adminCall("POST", `/admin/users/${crypto.randomUUID()}/block`)).status).toBe(404);
    expect((await adminCall("POST", `/admin/users/${crypto.randomUUID()}/unblock`)).status).toBe(
      404,
    );
  });
});

describe("deleting a user", () => {
  it("removes the account, ends its sessions, revokes its tokens and frees the username", async () => {
    const { client, user, browser, tokens } = await userWithGrant();
    expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(204);

    expect((await adminCall("GET", `/admin/users/${user.id}`)).status).toBe(404);
    expect((await adminCall("GET", `/admin/users?username=${user.username}`)).status).toBe(404);
    expect(await sessionAuthorizes(browser, client)).toBe(false);
    expect((await tryLogin(client, user.username, user.password)).status).toBe(401);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    expect((await refresh(client, tokens.refresh_token)).status).toBe(400);

    // The name can be given to a new account, which is a different subject.
    const again = await createUser({ username: user.username, password: "password-for-new" });
    expect(again.status).toBe(201);
    expect((await json<UserView>(again)).id).not.toBe(user.id);
  });

  it("of an unknown user is 404", async () => {
    expect((await adminCall("DELETE", `/admin/users/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("PUT /admin/users/:id/password and the user's grants", () => {
  const setPassword = (id: string, overrides: Partial<Cloudflare.Env> = {}) =>
    fetchWith(overrides, `/admin/users/${id}/password`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ password: "a brand new passphrase" }),
    });

  it("revokes every grant of the user (REVOKE_GRANTS_ON_PASSWORD_CHANGE, on by default)", async () => {
    const { client, user, refreshToken } = await grantWithRefresh();
    expect((await setPassword(user.id)).status).toBe(204);
    await refreshRefused(client, refreshToken);
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "revoked",
      reason: "password_changed",
    });
  });

  it("keeps those with offline_access when the provider turns that off; the session's own grants still end", async () => {
    const { client, user, refreshToken } = await grantWithRefresh({
      scope: "openid offline_access api:read",
    });
    // Made without offline_access: it belongs to the login session, which the change ends.
    const online = await grantWithRefresh({ scope: "openid api:read" });
    await setPassword(online.user.id, { REVOKE_GRANTS_ON_PASSWORD_CHANGE: "false" });
    await refreshRefused(online.client, online.refreshToken);
    const res = await setPassword(user.id, { REVOKE_GRANTS_ON_PASSWORD_CHANGE: "false" });
    expect(res.status).toBe(204);
    await refreshOk(client, refreshToken);
  });
});
