import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { isLoginPage } from "../support/authorize";
import { Browser, codeFlow, hiddenFields, pkce } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
  tokenRequest,
} from "../support/fixtures";
import { ADMIN_TOKEN, call, fetchWith, json } from "../support/http";

/**
 * Login sessions and OpenID Connect RP-Initiated Logout 1.0 (src/browser/logout.tsx,
 * src/users/login-sessions.ts): a session has an id that its ID tokens carry as
 * `sid`; logout ends it in the user's object, and with it the grants made
 * without offline_access (OIDC Core §11); grants with offline_access live on.
 */

const LOGGED_OUT = "https://app.example.test/logged-out";

const client = (overrides: Record<string, unknown> = {}) =>
  registerClient({ consent: "implicit", post_logout_redirect_uris: [LOGGED_OUT], ...overrides });

const refresh = (c: RegisteredClient, token: string) =>
  tokenRequest(c, { grant_type: "refresh_token", refresh_token: token });

async function signedIn(
  c: RegisteredClient,
  user: TestUser,
  scope: string,
  browser = new Browser(),
) {
  const tokens = await codeFlow(c, user, { browser, scope });
  return { browser, tokens, claims: decodeJwt(tokens.id_token as string) };
}

const logoutUrl = (params: Record<string, string>) => `/logout?${new URLSearchParams(params)}`;

/** An authorization request of `c` (PKCE, scope openid), with `prompt` if given. */
const authorizeUrl = (c: RegisteredClient, prompt?: string) =>
  `/authorize?${new URLSearchParams({
    response_type: "code",
    client_id: c.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    state: "s",
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    code_challenge_method: "S256",
    ...(prompt ? { prompt } : {}),
  })}`;

describe("login sessions", () => {
  it("are named in discovery's end_session_endpoint, and ID tokens carry the session's sid", async () => {
    const metadata = await json<{ end_session_endpoint: string }>(
      await call("/.well-known/openid-configuration"),
    );
    expect(metadata.end_session_endpoint).toBe("https://auth.example.test/logout");
    const c = await client();
    const user = await registerUser();
    const first = await signedIn(c, user, "openid profile");
    expect(first.claims.sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // A second authorization in the same browser is the same session...
    const again = await codeFlow(c, user, { browser: first.browser, scope: "openid" });
    expect(decodeJwt(again.id_token as string).sid).toBe(first.claims.sid);
    // ...and its refreshed ID token too; another browser's sign-in is another session.
    const refreshed = await json<{ id_token: string }>(
      await refresh(c, first.tokens.refresh_token as string),
    );
    expect(decodeJwt(refreshed.id_token).sid).toBe(first.claims.sid);
    const other = await signedIn(c, user, "openid");
    expect(other.claims.sid).not.toBe(first.claims.sid);
  });
});

describe("RP-initiated logout", () => {
  it("ends the session named by the id_token_hint at once, and goes back with the state", async () => {
    const c = await client();
    const user = await registerUser();
    const { browser, tokens } = await signedIn(c, user, "openid profile");
    const res = await browser.get(
      logoutUrl({
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: LOGGED_OUT,
        state: "bye-123",
      }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(`${LOGGED_OUT}?state=bye-123`);
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
    // prompt=none now finds no session: login_required.
    const silent = await browser.get(authorizeUrl(c, "none"));
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe(
      "login_required",
    );
  });

  it("revokes the session's grants made without offline_access; those with it live on", async () => {
    const c = await client();
    const user = await registerUser();
    const browser = new Browser();
    const online = await signedIn(c, user, "openid profile", browser);
    const offline = await signedIn(c, user, "openid offline_access", browser);
    expect(offline.claims.sid).toBe(online.claims.sid);
    await browser.get(logoutUrl({ id_token_hint: online.tokens.id_token as string }));
    const dead = await refresh(c, online.tokens.refresh_token as string);
    expect(dead.status).toBe(400);
    expect((await json(dead)).error).toBe("invalid_grant");
    expect((await refresh(c, offline.tokens.refresh_token as string)).status).toBe(200);
  });

  it("asks first when the request cannot be tied to the session, and signs out only on yes", async () => {
    const c = await client();
    const user = await registerUser();
    const { browser, tokens } = await signedIn(c, user, "openid profile");
    const question = await browser.get(logoutUrl({ client_id: c.client_id, state: "q" }));
    expect(question.status).toBe(200);
    const html = await question.text();
    expect(html).toContain("Sign out?");
    expect(hiddenFields(html)).toMatchObject({ client_id: c.client_id, state: "q" });

    // "Stay signed in": nothing changes.
    const stay = await browser.submit(html, { decision: "stay" });
    expect(await stay.text()).toContain("still signed in");
    expect((await refresh(c, tokens.refresh_token as string)).status).toBe(200);

    // A forged answer (no CSRF token) changes nothing either.
    const forged = await browser.request("/logout", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "sign_out" }).toString(),
    });
    expect(forged.status).toBe(400);
    expect(browser.hasCookie("__Host-ets_session")).toBe(true);

    const again = await (await browser.get(logoutUrl({ client_id: c.client_id }))).text();
    const out = await browser.submit(again, { decision: "sign_out" });
    expect(await out.text()).toContain("You have signed out");
    const login = await browser.get(authorizeUrl(c));
    expect(isLoginPage(await login.text())).toBe(true);
  });

  it("asks when the id_token_hint is another user's, or another session's", async () => {
    const c = await client();
    const alice = await registerUser();
    const bob = await registerUser();
    const mine = await signedIn(c, alice, "openid");
    const theirs = await signedIn(c, bob, "openid");
    const oldSession = await signedIn(c, alice, "openid"); // alice elsewhere: another sid
    for (const hint of [theirs.tokens.id_token, oldSession.tokens.id_token]) {
      const res = await mine.browser.get(logoutUrl({ id_token_hint: hint as string }));
      expect(await res.text()).toContain("Sign out?");
    }
    expect(mine.browser.hasCookie("__Host-ets_session")).toBe(true);
  });

  it("ends the session on the server: a copy of the old cookie is no session", async () => {
    const c = await client();
    const user = await registerUser();
    const browser = new Browser();
    const page = await browser.get(authorizeUrl(c));
    const signIn = await browser.submit(await page.text(), {
      username: user.username,
      password: user.password,
    });
    const cookie = signIn.headers
      .getSetCookie()
      .find((line) => line.startsWith("__Host-ets_session="))
      ?.split(";")[0] as string;
    expect(cookie).toBeTruthy();
    const copy = new Browser({ headers: { Cookie: cookie } });
    const before = await copy.get(authorizeUrl(c, "none"));
    expect(new URL(before.headers.get("Location") as string).searchParams.get("code")).toBeTruthy();
    const question = await browser.get("/logout");
    await browser.submit(await question.text(), { decision: "sign_out" });
    const after = await copy.get(authorizeUrl(c, "none"));
    expect(new URL(after.headers.get("Location") as string).searchParams.get("error")).toBe(
      "login_required",
    );
  });

  it("never redirects to an unregistered post_logout_redirect_uri, or without knowing the client", async () => {
    const c = await client();
    const user = await registerUser();
    const { browser, tokens } = await signedIn(c, user, "openid");
    for (const params of [
      {
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: "https://evil.example/",
      },
      { post_logout_redirect_uri: LOGGED_OUT },
      { client_id: c.client_id, post_logout_redirect_uri: `${LOGGED_OUT}/x` },
      { id_token_hint: "not-a-token" },
      { id_token_hint: tokens.id_token as string, client_id: "another-client" },
    ] as Record<string, string>[]) {
      const res = await browser.get(logoutUrl(params));
      expect(res.status).toBe(400);
      expect(res.headers.get("Location")).toBeNull();
    }
    expect(browser.hasCookie("__Host-ets_session")).toBe(true);
  });
});

describe("which grants end with the session", () => {
  it("follows the client's grants_end_with_session: never, or always", async () => {
    const user = await registerUser();
    const keeps = await client({ grants_end_with_session: "never" });
    const ends = await client({ grants_end_with_session: "always" });
    const browser = new Browser();
    const kept = await signedIn(keeps, user, "openid profile", browser);
    const ended = await signedIn(ends, user, "openid offline_access", browser);
    await browser.get(logoutUrl({ id_token_hint: kept.tokens.id_token as string }));
    expect((await refresh(keeps, kept.tokens.refresh_token as string)).status).toBe(200);
    expect((await refresh(ends, ended.tokens.refresh_token as string)).status).toBe(400);
  });

  it("ends with a password change too, even where the provider keeps grants across one", async () => {
    const c = await client();
    const user = await registerUser();
    const browser = new Browser();
    const online = await signedIn(c, user, "openid profile", browser);
    const offline = await signedIn(c, user, "openid offline_access", browser);
    const changed = await fetchWith(
      { REVOKE_GRANTS_ON_PASSWORD_CHANGE: "false" },
      `/admin/users/${user.id}/password`,
      {
        method: "PUT",
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ password: "a different passphrase" }),
      },
    );
    expect(changed.status).toBe(204);
    expect((await refresh(c, online.tokens.refresh_token as string)).status).toBe(400);
    expect((await refresh(c, offline.tokens.refresh_token as string)).status).toBe(200);
  });
});

describe("a session's end, whatever ends it", () => {
  it("a logout the client POSTs from its own site, which carries no SameSite=Lax cookie, goes on as a GET that does", async () => {
    const c = await client();
    const user = await registerUser();
    const { browser, tokens } = await signedIn(c, user, "openid profile");
    const fields = {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: LOGGED_OUT,
      state: "posted",
    };
    // The cross-site POST: the browser leaves the session cookie out.
    const posted = await call("/logout", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: "https://app.example.test",
      },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });
    expect(posted.status).toBe(303);
    const next = posted.headers.get("Location") as string;
    expect(next.startsWith("/logout?")).toBe(true);
    expect(Object.fromEntries(new URL(next, "https://x").searchParams)).toEqual(fields);
    // The top-level GET carries the cookie: the session ends, and its grant with it.
    const done = await browser.get(next);
    expect(done.headers.get("Location")).toBe(`${LOGGED_OUT}?state=posted`);
    expect((await refresh(c, tokens.refresh_token as string)).status).toBe(400);
  });

  it("signing in again in the same browser ends the session it replaces, and that session's grants", async () => {
    const c = await client();
    const user = await registerUser();
    const first = await signedIn(c, user, "openid profile");
    const again = await codeFlow(c, user, {
      browser: first.browser,
      scope: "openid profile",
      prompt: "login",
    });
    expect(decodeJwt(again.id_token as string).sid).not.toBe(first.claims.sid);
    expect((await refresh(c, first.tokens.refresh_token as string)).status).toBe(400);
    expect((await refresh(c, again.refresh_token as string)).status).toBe(200);
  });
});

describe("not you?", () => {
  it("on the consent page ends this browser's session (and its grants) and lets another person sign in for the same request", async () => {
    // Consent asked for: the page that says who is signed in.
    const c = await registerClient({ consent: "required" });
    const alice = await registerUser();
    const bob = await registerUser();
    const browser = new Browser();
    const first = await codeFlow(c, alice, { browser, scope: "openid profile" });
    const { challenge, verifier } = await pkce();
    const page = await browser.get(
      `/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: c.client_id,
        redirect_uri: REDIRECT_URI,
        scope: "openid email",
        state: "switch",
        code_challenge: challenge,
        code_challenge_method: "S256",
      })}`,
    );
    const consent = await page.text();
    expect(consent).toContain(alice.username);
    expect(consent).toContain("Not you?");
    const login = await browser.submit(consent, { decision: "switch_user" });
    expect(isLoginPage(await login.clone().text())).toBe(true);
    // Alice's session ended here, with the grant it held.
    expect((await refresh(c, first.refresh_token as string)).status).toBe(400);
    // Bob signs in and answers the same request.
    let res = await browser.submit(await login.text(), {
      username: bob.username,
      password: bob.password,
    });
    const html = await res.clone().text();
    if (html.includes('value="allow"')) res = await browser.submit(html, { decision: "allow" });
    const back = new URL(res.headers.get("Location") as string);
    expect(back.searchParams.get("state")).toBe("switch");
    const tokens = await json<{ id_token: string }>(
      await tokenRequest(c, {
        grant_type: "authorization_code",
        code: back.searchParams.get("code") as string,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    );
    expect(decodeJwt(tokens.id_token).sub).toBe(bob.id);
  });
});
