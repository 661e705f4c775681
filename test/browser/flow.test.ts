import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  authorizationCode,
  expectErrorPage,
  expectRedirectedError,
  isConsentPage,
  isLoginPage,
  redeemCode,
  redirectTarget,
  signIn,
} from "../support/authorize";
import {
  type AuthorizeOptions,
  authorizeUrl,
  Browser,
  hiddenFields,
  pkce,
} from "../support/browser";
import {
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
} from "../support/fixtures";
import { formBody, ISSUER, json } from "../support/http";
import { sleep } from "../support/refresh";

/**
 * What happens after a valid authorization request (OIDC Core §3.1.2.3 to
 * §3.1.2.5): sign in unless a session stands (prompt=login and max_age can
 * insist), ask consent unless already given (prompt=consent can insist),
 * then issue the code. offline_access follows OIDC Core §11.
 */

/** Opens /authorize in `browser` and returns the first answer (page or redirect). */
async function open(browser: Browser, client: RegisteredClient, options: AuthorizeOptions = {}) {
  const { challenge } = await pkce();
  const res = await browser.get(authorizeUrl(client, { challenge, ...options }));
  return { res, html: res.status === 200 ? await res.text() : "" };
}

/** A browser whose user has signed in (and consented) once for `client`. */
async function signedInBrowser(
  client: RegisteredClient,
  user: TestUser,
  options: AuthorizeOptions = {},
): Promise<Browser> {
  const { browser } = await authorizationCode(client, user, options);
  expect(browser.hasCookie("__Host-ets_session")).toBe(true);
  return browser;
}

/** Redeems a code and returns the token response, which must succeed. */
async function tokensFor(client: RegisteredClient, code: { code: string; verifier: string }) {
  const res = await redeemCode(client, code.code, code.verifier);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{
    access_token: string;
    scope: string;
    refresh_token?: string;
    id_token?: string;
  }>(res);
}

describe("login sessions (OIDC Core §3.1.2.3)", () => {
  it("a second authorization in the same browser skips the password: the code comes at once", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res } = await open(browser, client);
    expect(res.status).toBe(302);
    expect(redirectTarget(res).searchParams.get("code")).toMatch(/^ac1\./);
  });

  it("a session belongs to its browser: another browser gets the login form", async () => {
    const client = await registerClient();
    const user = await registerUser();
    await signedInBrowser(client, user);
    const { html } = await open(new Browser(), client);
    expect(isLoginPage(html)).toBe(true);
  });

  it("auth_time is the time of the sign-in, not of the later authorization (OIDC Core §2)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const first = await authorizationCode(client, user);
    const firstId = decodeJwt((await tokensFor(client, first)).id_token as string);
    await sleep(1100);
    const second = await authorizationCode(client, user, { browser: first.browser });
    const secondId = decodeJwt((await tokensFor(client, second)).id_token as string);
    expect(secondId.auth_time).toBe(firstId.auth_time);
    expect(secondId.iat).toBeGreaterThan(firstId.iat as number);
  });

  it("prompt=login shows the login form despite the session", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res, html } = await open(browser, client, { prompt: "login" });
    expect(res.status).toBe(200);
    expect(isLoginPage(html)).toBe(true);
  });

  it("prompt=login followed by the consent page ends in a code, not in the login form again", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    const login = await signIn(browser, client, user, {
      challenge: (await pkce()).challenge,
      prompt: "login",
    });
    const consent = await login.text();
    expect(isConsentPage(consent)).toBe(true);
    const res = await browser.submit(consent, { decision: "allow" });
    expect(redirectTarget(res).searchParams.get("code")).toMatch(/^ac1\./);
  });

  it("max_age within the session's age lets the session stand", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res } = await open(browser, client, { extra: { max_age: "3600" } });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("max_age shorter than the session's age asks for the password again", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    await sleep(2100);
    const { verifier, challenge } = await pkce();
    const res = await browser.get(authorizeUrl(client, { challenge, extra: { max_age: "1" } }));
    const html = await res.text();
    expect(isLoginPage(html)).toBe(true);
    // Signing in again satisfies it, and the ID token's auth_time says when.
    const signedInAt = Math.floor(Date.now() / 1000);
    const again = await browser.submit(html, { username: user.username, password: user.password });
    const code = redirectTarget(again).searchParams.get("code") as string;
    const idToken = decodeJwt((await tokensFor(client, { code, verifier })).id_token as string);
    expect(idToken.auth_time).toBeGreaterThanOrEqual(signedInAt);
  });

  it("max_age=0 is prompt=login, and the consent page after the sign-in does not loop back", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid" });
    const { html } = await open(browser, client, {
      scope: "openid profile",
      extra: { max_age: "0" },
    });
    expect(isLoginPage(html)).toBe(true);
    const consent = await browser.submit(html, {
      username: user.username,
      password: user.password,
    });
    const page = await consent.text();
    expect(isConsentPage(page)).toBe(true);
    const res = await browser.submit(page, { decision: "allow" });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("prompt=none with a session and consent returns a code without any page", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res } = await open(browser, client, { prompt: "none" });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("an id_token_hint of the signed-in user lets prompt=none return a code (OIDC Core §3.1.2.1)", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const first = await authorizationCode(client, user, { scope: "openid profile" });
    const { id_token } = await tokensFor(client, first);
    const { res } = await open(first.browser, client, {
      prompt: "none",
      scope: "openid profile",
      extra: { id_token_hint: id_token as string },
    });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("an id_token_hint of another user than the signed-in one: prompt=none is login_required, else the login form", async () => {
    const client = await registerClient();
    const alice = await registerUser();
    const bob = await registerUser();
    const { id_token: bobsHint } = await tokensFor(
      client,
      await authorizationCode(client, bob, { scope: "openid profile" }),
    );
    const browser = await signedInBrowser(client, alice, { scope: "openid profile" });
    const silent = await open(browser, client, {
      prompt: "none",
      scope: "openid profile",
      extra: { id_token_hint: bobsHint as string },
    });
    expectRedirectedError(silent.res, "login_required", { state: "state-123" });
    const interactive = await open(browser, client, {
      scope: "openid profile",
      extra: { id_token_hint: bobsHint as string },
    });
    expect(isLoginPage(interactive.html)).toBe(true);
  });

  it("an id_token_hint of one user, and a sign-in made for the request by another: login_required", async () => {
    const client = await registerClient({ consent: "implicit" });
    const alice = await registerUser();
    const bob = await registerUser();
    const { id_token: alicesHint } = await tokensFor(
      client,
      await authorizationCode(client, alice, { scope: "openid" }),
    );
    const browser = new Browser();
    const { html } = await open(browser, client, {
      scope: "openid",
      extra: { id_token_hint: alicesHint as string },
    });
    expect(isLoginPage(html)).toBe(true);
    const res = await browser.submit(html, { username: bob.username, password: bob.password });
    expectRedirectedError(res, "login_required", { state: "state-123" });
  });

  it("an id_token_hint that is not an ID token issued here to this client is invalid_request", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const user = await registerUser();
    const { id_token, access_token } = await tokensFor(
      other,
      await authorizationCode(other, user, { scope: "openid" }),
    );
    const browser = await signedInBrowser(client, user, { scope: "openid" });
    for (const hint of [id_token as string, access_token, "not-a-jwt"]) {
      const { res } = await open(browser, client, {
        scope: "openid",
        extra: { id_token_hint: hint },
      });
      expectRedirectedError(res, "invalid_request", { state: "state-123" });
    }
  });

  it("prompt=none with max_age exceeded is login_required", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res } = await open(browser, client, { prompt: "none", extra: { max_age: "0" } });
    expectRedirectedError(res, "login_required", { state: "state-123" });
  });
});

describe("consent (OIDC Core §3.1.2.4)", () => {
  it("the consent page names the application, the user and each requested permission", async () => {
    const client = await registerClient({ client_name: "Acme Notes" });
    const user = await registerUser();
    const res = await signIn(new Browser(), client, user, {
      challenge: (await pkce()).challenge,
      scope: "openid email api:read",
    });
    const html = await res.text();
    expect(isConsentPage(html)).toBe(true);
    expect(html).toContain("Acme Notes");
    expect(html).toContain(user.username);
    expect(html).toContain("See your email address");
    expect(html).toContain("api:read");
  });

  it("says the app keeps access while the user is away whenever a refresh token will be issued", async () => {
    const user = await registerUser();
    // Refresh tokens on (the default), offline_access not asked for: the page says so anyway.
    const keeps = await signIn(new Browser(), await registerClient(), user, {
      challenge: (await pkce()).challenge,
      scope: "openid profile",
    });
    expect(await keeps.text()).toContain("Stay connected");
    // No refresh token for this client: nothing to say.
    const none = await signIn(
      new Browser(),
      await registerClient({ refresh_token: { issue: false } }),
      user,
      { challenge: (await pkce()).challenge, scope: "openid profile" },
    );
    const html = await none.text();
    expect(isConsentPage(html)).toBe(true);
    expect(html).not.toContain("Stay connected");
  });

  it("is remembered per user and client: the second time there is no consent page", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid profile" });
    const { res } = await open(browser, client, { scope: "openid profile" });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("covers the scopes allowed: a subset needs no page, a new scope asks again", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid profile" });
    const subset = await open(browser, client, { scope: "openid" });
    expect(redirectTarget(subset.res).searchParams.get("code")).toBeTruthy();
    const wider = await open(browser, client, { scope: "openid profile email" });
    expect(isConsentPage(wider.html)).toBe(true);
  });

  it("given to one client does not cover another", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { html } = await open(browser, other);
    expect(isConsentPage(html)).toBe(true);
  });

  it("given by one user does not cover another user of the same client", async () => {
    const client = await registerClient();
    await signedInBrowser(client, await registerUser());
    const res = await signIn(new Browser(), client, await registerUser(), {
      challenge: (await pkce()).challenge,
    });
    expect(isConsentPage(await res.text())).toBe(true);
  });

  it("prompt=consent asks again even when consent was given", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { html } = await open(browser, client, { prompt: "consent" });
    expect(isConsentPage(html)).toBe(true);
    const res = await browser.submit(html, { decision: "allow" });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("prompt=none without consent is consent_required (OIDC Core §3.1.2.6)", async () => {
    const client = await registerClient();
    const other = await registerClient();
    const user = await registerUser();
    const browser = await signedInBrowser(client, user);
    const { res } = await open(browser, other, { prompt: "none" });
    expectRedirectedError(res, "consent_required", { state: "state-123" });
  });

  it("denied: access_denied goes back with state and iss, and no code", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    const page = await signIn(browser, client, user, {
      challenge: (await pkce()).challenge,
      state: "deny-state",
    });
    const res = await browser.submit(await page.text(), { decision: "deny" });
    expect(res.status).toBe(303);
    expectRedirectedError(res, "access_denied", { state: "deny-state" });
    // Nothing was remembered: the next request asks again.
    const { html } = await open(browser, client);
    expect(isConsentPage(html)).toBe(true);
  });

  it("is skipped for a client registered with consent: implicit (first-party)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const res = await signIn(new Browser(), client, user, {
      challenge: (await pkce()).challenge,
    });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("a consent form without its CSRF token, or posted from another origin, is refused", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    const page = await (
      await signIn(browser, client, user, { challenge: (await pkce()).challenge })
    ).text();
    const { csrf, ...fields } = hiddenFields(page);
    const post = (body: Record<string, string | undefined>, origin = ISSUER) =>
      browser.request("/consent", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
        body: formBody(body),
      });
    await expectErrorPage(await post({ ...fields, decision: "allow" }));
    await expectErrorPage(await post({ ...fields, csrf: `${csrf}x`, decision: "allow" }));
    const foreign = await post({ ...fields, csrf, decision: "allow" }, "https://evil.example");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("location")).toBeNull();
    // The genuine form still works, so the refusals above were about the token and origin.
    const ok = await post({ ...fields, csrf, decision: "allow" });
    expect(redirectTarget(ok).searchParams.get("code")).toBeTruthy();
  });

  it("a consent form answered with neither allow nor deny is refused on a page", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    const page = await (
      await signIn(browser, client, user, { challenge: (await pkce()).challenge })
    ).text();
    await expectErrorPage(await browser.submit(page, { decision: "maybe" }));
  });
});

describe("offline_access (OIDC Core §11)", () => {
  it("with consent: the consent page asks for it, and the token response has a refresh token", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const browser = new Browser();
    const page = await (
      await signIn(browser, client, user, {
        challenge: (await pkce()).challenge,
        scope: "openid offline_access",
      })
    ).text();
    expect(page).toContain("Stay connected");
    const code = await authorizationCode(client, user, {
      browser,
      scope: "openid offline_access",
    });
    const tokens = await tokensFor(client, code);
    expect(tokens.scope).toBe("openid offline_access");
    expect(tokens.refresh_token).toMatch(/^rt1\./);
  });

  it("consent given without offline_access does not cover it: the page asks again", async () => {
    // Refresh tokens only with offline_access: consent to the rest is not consent to it.
    // (A client that issues them anyway says "Stay connected" on every consent page.)
    const client = await registerClient({ refresh_token: { require_offline_access: true } });
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid profile" });
    const { html } = await open(browser, client, { scope: "openid profile offline_access" });
    expect(isConsentPage(html)).toBe(true);
    expect(html).toContain("Stay connected");
  });

  it("without consent, under prompt=none: consent_required and no code", async () => {
    // Refresh tokens only with offline_access: consent to the rest is not consent to it.
    // (A client that issues them anyway says "Stay connected" on every consent page.)
    const client = await registerClient({ refresh_token: { require_offline_access: true } });
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid profile" });
    const { res } = await open(browser, client, {
      scope: "openid profile offline_access",
      prompt: "none",
    });
    expectRedirectedError(res, "consent_required", { state: "state-123" });
  });

  it("without consent, denied by the user: access_denied and no code", async () => {
    // Refresh tokens only with offline_access: consent to the rest is not consent to it.
    // (A client that issues them anyway says "Stay connected" on every consent page.)
    const client = await registerClient({ refresh_token: { require_offline_access: true } });
    const user = await registerUser();
    const browser = await signedInBrowser(client, user, { scope: "openid profile" });
    const { html } = await open(browser, client, { scope: "openid profile offline_access" });
    const res = await browser.submit(html, { decision: "deny" });
    expectRedirectedError(res, "access_denied", { state: "state-123" });
  });

  it("a client with require_offline_access gets no refresh token unless offline_access was asked for", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { require_offline_access: true },
    });
    const user = await registerUser();
    const without = await tokensFor(
      client,
      await authorizationCode(client, user, { scope: "openid profile" }),
    );
    expect(without.access_token).toBeTruthy();
    expect(without.refresh_token).toBeUndefined();
    const withOffline = await tokensFor(
      client,
      await authorizationCode(client, user, { scope: "openid profile offline_access" }),
    );
    expect(withOffline.refresh_token).toMatch(/^rt1\./);
  });

  it("a client whose policy is refresh_token.issue=false gets none, even with offline_access", async () => {
    const client = await registerClient({ consent: "implicit", refresh_token: { issue: false } });
    const user = await registerUser();
    const tokens = await tokensFor(
      client,
      await authorizationCode(client, user, { scope: "openid offline_access" }),
    );
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
  });
});
