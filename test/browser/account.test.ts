import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { ACCOUNT_FORMS } from "../../src/paths";
import { isConsentPage, isLoginPage } from "../support/authorize";
import { authorizeUrl, Browser, codeFlow, hiddenFields, type TokenSet } from "../support/browser";
import {
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, ISSUER, json, withinOneRateWindow } from "../support/http";

/**
 * The user's own account page (src/browser/account.tsx, issue #17): the apps
 * that hold a grant (removable), the login sessions (signed out one, all
 * others, or all), and a password change; every form CSRF-protected and
 * same-origin only, acting only on the signed-in user's own grants and sessions.
 */

const app = (name: string, overrides: Record<string, unknown> = {}) =>
  registerClient({ client_name: name, consent: "implicit", ...overrides });

const refresh = (c: RegisteredClient, tokens: TokenSet) =>
  tokenRequest(c, { grant_type: "refresh_token", refresh_token: tokens.refresh_token as string });

/** The refresh's outcome: 200, or the RFC 6749 §5.2 error code. */
async function refreshOutcome(c: RegisteredClient, tokens: TokenSet): Promise<number | string> {
  const res = await refresh(c, tokens);
  return res.status === 200 ? 200 : ((await json<{ error: string }>(res)).error as string);
}

/** Signs in at /account (the login page, then back), and answers the account page's HTML. */
async function signInToAccount(browser: Browser, user: TestUser): Promise<string> {
  const login = await browser.get("/account");
  expect(login.status).toBe(200);
  const html = await login.text();
  expect(isLoginPage(html)).toBe(true);
  const res = await browser.submit(html, { username: user.username, password: user.password });
  expect(res.status, await res.clone().text()).toBe(303);
  expect(res.headers.get("Location")).toBe("/account");
  return accountPage(browser);
}

async function accountPage(browser: Browser): Promise<string> {
  const res = await browser.get("/account");
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain("Your account");
  return html;
}

/** Posts one of the page's forms (its CSRF token, from the page) as a same-origin browser does. */
function post(
  browser: Browser,
  page: string,
  action: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { Origin: ISSUER },
): Promise<Response> {
  return browser.request(action, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ csrf: hiddenFields(page).csrf as string, ...fields }).toString(),
  });
}

/** The notice a change redirected to, shown on the page it leads to. */
async function noticeAfter(browser: Browser, res: Response): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(303);
  const location = res.headers.get("Location") as string;
  expect(location).toMatch(/^\/account\?done=/);
  const html = await (await browser.get(location)).text();
  return /<p class="notice" role="status">([^<]*)<\/p>/.exec(html)?.[1] ?? "";
}

const sidOf = (tokens: TokenSet) => decodeJwt(tokens.id_token as string).sid as string;

/** The logout tokens a back-channel logout URI received (test/fixtures/logout-receiver), waiting for one. */
async function logoutTokensAt(uri: string): Promise<string[]> {
  const receiver = (env as unknown as { BACKCHANNEL_LOGOUT_FETCHER: Fetcher })
    .BACKCHANNEL_LOGOUT_FETCHER;
  const deadline = Date.now() + 5_000;
  for (;;) {
    const res = await receiver.fetch(
      `https://receiver.test/__received?url=${encodeURIComponent(uri)}`,
    );
    const { requests } = await res.json<{ requests: { body: string }[] }>();
    if (requests.length > 0 || Date.now() > deadline)
      return requests.map((r) => new URLSearchParams(r.body).get("logout_token") as string);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the account page", () => {
  it("without a session is the login page, and after signing in the page itself", async () => {
    const user = await registerUser();
    const browser = new Browser();
    const html = await signInToAccount(browser, user);
    expect(html).toContain(`Signed in as <strong>${user.username}</strong>`);
    expect(html).toContain("No app has access to your account.");
    // The login page says where the sign-in leads; the sign-in asks no consent.
    const fresh = await (await new Browser().get("/account")).text();
    expect(fresh).toContain("to continue to <strong>your account</strong>");
    expect(isConsentPage(html)).toBe(false);
  });

  it("lists the apps with a grant (name, scopes in words, offline access) and the sessions, this browser marked", async () => {
    const user = await registerUser();
    const calendar = await app("Calendar App");
    const notes = await app("Notes App");
    const browser = new Browser();
    await codeFlow(calendar, user, { browser, scope: "openid profile offline_access" });
    await codeFlow(notes, user, { browser, scope: "openid email" });
    await codeFlow(notes, user, { scope: "openid" }); // another browser: a second session
    const html = await accountPage(browser); // the session the code flows signed in with

    const apps = html.slice(html.indexOf('aria-label="Apps with access"'));
    expect(apps).toContain("Calendar App");
    expect(apps).toContain("Notes App");
    // One row per app: Notes has two grants (two sessions), shown once, their scopes together.
    expect(apps.match(/name="client_id"/g)).toHaveLength(2);
    for (const words of [
      "Know who you are",
      "See your profile",
      "Stay connected",
      "See your email address",
    ])
      expect(apps).toContain(words);
    expect(apps).toContain("Yes: keeps access when you are signed out");
    expect(apps).toContain("No: its access ends when you sign out");
    for (const label of ["Since", "Last used", "Expires", "Offline access"])
      expect(apps).toContain(`<dt>${label}</dt>`);

    // Two sessions: this browser's and the other browser's.
    expect(html.match(/name="sid"/g)).toHaveLength(2);
    expect(html.match(/class="tag">This browser</g)).toHaveLength(1);
    expect(html).toContain("Calendar App, Notes App"); // the apps the first session was used for

    // A client deleted since is shown as such, and can still be removed.
    expect((await adminCall("DELETE", `/admin/clients/${notes.client_id}`)).status).toBe(204);
    const after = await accountPage(browser);
    expect(after).toContain("Deleted application");
    expect(after).toContain(`The application ${notes.client_id} no longer exists`);
  });

  it("says whether an app keeps access at sign-out as its client's rule decides, not by the scope alone", async () => {
    const user = await registerUser();
    const strict = await app("Strict Bank", { grants_end_with_session: "always" });
    const lenient = await app("Lenient Reader", { grants_end_with_session: "never" });
    const browser = new Browser();
    await codeFlow(strict, user, { browser, scope: "openid offline_access" });
    await codeFlow(lenient, user, { browser, scope: "openid profile" });
    const html = await accountPage(browser);
    const row = (name: string) =>
      html.slice(html.indexOf(name), html.indexOf("</li>", html.indexOf(name)));
    expect(row("Strict Bank")).toContain("No: its access ends when you sign out");
    expect(row("Lenient Reader")).toContain("Yes: keeps access when you are signed out");
  });

  it("Remove access: the app's refresh token is refused (invalid_grant), another app's still works, and the app must ask again", async () => {
    const user = await registerUser();
    const removed = await app("Removed App", { consent: "required" });
    const kept = await app("Kept App");
    const browser = new Browser();
    const gone = await codeFlow(removed, user, { browser, scope: "openid offline_access" });
    const stays = await codeFlow(kept, user, { browser, scope: "openid offline_access" });
    const page = await accountPage(browser);

    const res = await post(browser, page, ACCOUNT_FORMS.removeApp, {
      client_id: removed.client_id,
    });
    expect(await noticeAfter(browser, res)).toContain("access was removed");
    expect(await refreshOutcome(removed, gone)).toBe("invalid_grant");
    expect(await refreshOutcome(kept, stays)).toBe(200);
    const html = await accountPage(browser);
    const apps = html.slice(
      html.indexOf('aria-label="Apps with access"'),
      html.indexOf("sessions-heading"),
    );
    expect(apps).not.toContain("Removed App");
    expect(apps).toContain("Kept App");
    // The consent remembered for it is forgotten: the next authorization asks again.
    const again = await browser.get(authorizeUrl(removed, { scope: "openid offline_access" }));
    expect(isConsentPage(await again.text())).toBe(true);
  });

  it("signing out another session ends its grants made without offline_access; its offline grant lives, and this browser stays signed in", async () => {
    const user = await registerUser();
    const c = await app("Session App");
    const elsewhere = new Browser();
    const online = await codeFlow(c, user, { browser: elsewhere, scope: "openid profile" });
    const offline = await codeFlow(c, user, { browser: elsewhere, scope: "openid offline_access" });
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    expect(page).toContain(`value="${sidOf(online)}"`);

    const res = await post(browser, page, ACCOUNT_FORMS.signOut, { sid: sidOf(online) });
    expect(await noticeAfter(browser, res)).toBe("The session was signed out.");
    expect(await refreshOutcome(c, online)).toBe("invalid_grant");
    expect(await refreshOutcome(c, offline)).toBe(200);
    // The other browser's cookie names no session any more; this one's still does.
    expect(isLoginPage(await (await elsewhere.get("/account")).text())).toBe(true);
    expect(await accountPage(browser)).not.toContain(`value="${sidOf(online)}"`);
  });

  it("a session signed out here is announced to its clients' backchannel_logout_uri (Back-Channel Logout 1.0)", async () => {
    const user = await registerUser();
    const uri = `https://rp.example.test/backchannel/account-${Date.now()}`;
    const c = await app("Back-channel App", { backchannel_logout_uri: uri });
    const tokens = await codeFlow(c, user, { scope: "openid" });
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    await post(browser, page, ACCOUNT_FORMS.signOut, { sid: sidOf(tokens) });
    const [logoutToken] = await logoutTokensAt(uri);
    expect(logoutToken).toBeTruthy();
    const claims = decodeJwt(logoutToken as string);
    expect(claims).toMatchObject({ sub: user.id, sid: sidOf(tokens), aud: c.client_id });
  });

  it("signs out all other sessions, then everywhere: this browser's cookie is cleared", async () => {
    const user = await registerUser();
    const c = await app("Many Sessions App");
    const others = await Promise.all(
      [1, 2].map(() => codeFlow(c, user, { scope: "openid profile" })),
    );
    const browser = new Browser();
    const mine = await codeFlow(c, user, { browser, scope: "openid profile" });
    const page = await accountPage(browser);
    expect(page.match(/name="sid"/g)).toHaveLength(3);

    const res = await post(browser, page, ACCOUNT_FORMS.signOut, { which: "others" });
    expect(await noticeAfter(browser, res)).toBe("Every other session was signed out.");
    for (const tokens of others) expect(await refreshOutcome(c, tokens)).toBe("invalid_grant");
    expect(await refreshOutcome(c, mine)).toBe(200);
    const now = await accountPage(browser);
    expect(now.match(/name="sid"/g)).toHaveLength(1);

    const all = await post(browser, now, ACCOUNT_FORMS.signOut, { which: "all" });
    expect(all.status).toBe(303);
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
    const login = await (await browser.get(all.headers.get("Location") as string)).text();
    expect(isLoginPage(login)).toBe(true);
    expect(login).toContain("You were signed out everywhere.");
    expect(await refreshOutcome(c, mine)).toBe("invalid_grant");
  });

  it("changes the password: every other session ends (and the grants), this browser is signed in afresh, and only the new password signs in", async () => {
    const user = await registerUser();
    const c = await app("Password App");
    const elsewhere = new Browser();
    const offline = await codeFlow(c, user, { browser: elsewhere, scope: "openid offline_access" });
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    const NEW = "a brand new passphrase";

    const res = await post(browser, page, ACCOUNT_FORMS.password, {
      current_password: user.password,
      new_password: NEW,
      repeat_password: NEW,
    });
    expect(await noticeAfter(browser, res)).toContain("Your password was changed.");
    // REVOKE_GRANTS_ON_PASSWORD_CHANGE (on by default): even the offline grant is gone.
    expect(await refreshOutcome(c, offline)).toBe("invalid_grant");
    expect(isLoginPage(await (await elsewhere.get("/account")).text())).toBe(true);
    const html = await accountPage(browser);
    expect(html.match(/name="sid"/g)).toHaveLength(1);

    const old = new Browser();
    const login = await (await old.get("/account")).text();
    const refused = await old.submit(login, { username: user.username, password: user.password });
    expect(refused.status).toBe(401);
    await signInToAccount(new Browser(), { ...user, password: NEW });
  });

  it("refuses a wrong current password, and counts it as a failed sign-in (the name's lock-out)", async () => {
    const user = await registerUser();
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    const attempt = (current: string) =>
      post(browser, page, ACCOUNT_FORMS.password, {
        current_password: current,
        new_password: "another passphrase",
        repeat_password: "another passphrase",
      });
    const wrong = await attempt("not my password");
    expect(wrong.status).toBe(401);
    const html = await wrong.text();
    expect(html).toContain("The current password is incorrect.");
    expect(html).toContain('aria-describedby="password-error"');
    for (let i = 0; i < 4; i++) expect((await attempt(`wrong ${i} password`)).status).toBe(401);
    // Five failures from this address: the name is locked for it, even with the right password.
    const locked = await attempt(user.password);
    expect(locked.status).toBe(429);
    expect(await locked.text()).toContain("Too many failed attempts");
    // Nothing changed: the old password still signs in elsewhere.
    await signInToAccount(new Browser({ headers: { "CF-Connecting-IP": "198.51.100.7" } }), user);
  });

  it("counts a wrong current password against the address's sign-in limit (SIGN_IN_LIMITER)", async () => {
    await withinOneRateWindow(); // the count of one minute window
    const user = await registerUser();
    const browser = new Browser({
      env: { RATE_LIMITS: "on" },
      headers: { "CF-Connecting-IP": "203.0.113.217" },
    });
    const page = await signInToAccount(browser, user);
    const attempt = () =>
      post(browser, page, ACCOUNT_FORMS.password, {
        current_password: "not my password",
        new_password: "another passphrase",
        repeat_password: "another passphrase",
      });
    for (let i = 0; i < 10; i++) expect([401, 429]).toContain((await attempt()).status);
    const over = await attempt();
    expect(over.status).toBe(429);
    expect(await over.text()).toContain("Too many sign-in attempts from your network");
  });

  it("refuses a new password that is too short or not repeated, asking nothing of the account", async () => {
    const user = await registerUser();
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    const short = await post(browser, page, ACCOUNT_FORMS.password, {
      current_password: user.password,
      new_password: "short",
      repeat_password: "short",
    });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain("The new password must be at least 8 characters.");
    const differ = await post(browser, page, ACCOUNT_FORMS.password, {
      current_password: user.password,
      new_password: "one passphrase",
      repeat_password: "another passphrase",
    });
    expect(differ.status).toBe(400);
    await signInToAccount(new Browser(), user); // the password is unchanged
  });

  it("refuses a form without its CSRF token, or from another site, and changes nothing", async () => {
    const user = await registerUser();
    const c = await app("Guarded App");
    const browser = new Browser();
    const tokens = await codeFlow(c, user, { browser, scope: "openid offline_access" });
    const page = await accountPage(browser);
    const noToken = await browser.request(ACCOUNT_FORMS.removeApp, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
      body: new URLSearchParams({ client_id: c.client_id }).toString(),
    });
    expect(noToken.status).toBe(400);
    expect(await noToken.text()).toContain("This form has expired or was altered");
    const forged = await post(
      browser,
      page,
      ACCOUNT_FORMS.removeApp,
      { client_id: c.client_id },
      { Origin: "https://evil.example" },
    );
    expect(forged.status).toBe(403);
    const elsewhere: [string, Record<string, string>][] = [
      [ACCOUNT_FORMS.signOut, { which: "all" }],
      [ACCOUNT_FORMS.password, { current_password: user.password }],
    ];
    for (const [action, fields] of elsewhere) {
      const res = await post(browser, page, action, fields, { Origin: "https://evil.example" });
      expect(res.status).toBe(403);
    }
    expect(await refreshOutcome(c, tokens)).toBe(200);
    expect(browser.hasCookie("__Host-ets_session")).toBe(true);
    await accountPage(browser);
  });

  it("acts only on the signed-in user's own: another user's app or session id in the form changes nothing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const shared = await app("Shared App");
    const alicesOnly = await app("Alice's App");
    const aliceBrowser = new Browser();
    const aliceOnline = await codeFlow(shared, alice, { browser: aliceBrowser, scope: "openid" });
    const aliceOwn = await codeFlow(alicesOnly, alice, {
      browser: aliceBrowser,
      scope: "openid offline_access",
    });
    const bobBrowser = new Browser();
    const bobsTokens = await codeFlow(shared, bob, { browser: bobBrowser, scope: "openid" });
    const bobsPage = await accountPage(bobBrowser);

    // Bob removes "Shared App" from his account: Alice's grant with it lives.
    const removed = await post(bobBrowser, bobsPage, ACCOUNT_FORMS.removeApp, {
      client_id: shared.client_id,
    });
    expect(removed.status).toBe(303);
    expect(await refreshOutcome(shared, bobsTokens)).toBe("invalid_grant");
    expect(await refreshOutcome(shared, aliceOnline)).toBe(200);
    // Bob names an app only Alice uses, and Alice's session: nothing of hers changes.
    await post(bobBrowser, bobsPage, ACCOUNT_FORMS.removeApp, { client_id: alicesOnly.client_id });
    const ended = await post(bobBrowser, bobsPage, ACCOUNT_FORMS.signOut, {
      sid: sidOf(aliceOnline),
    });
    expect(await noticeAfter(bobBrowser, ended)).toContain("had already ended");
    expect(await refreshOutcome(alicesOnly, aliceOwn)).toBe(200);
    expect(await refreshOutcome(shared, aliceOnline)).toBe(200);
    expect(await (await aliceBrowser.get("/account")).text()).toContain("Your account");
  });

  it("answers a form whose session has ended with the login page, changing nothing", async () => {
    const user = await registerUser();
    const browser = new Browser();
    const page = await signInToAccount(browser, user);
    const elsewhere = new Browser();
    const other = await signInToAccount(elsewhere, user);
    await post(elsewhere, other, ACCOUNT_FORMS.signOut, { which: "others" });
    const res = await post(browser, page, ACCOUNT_FORMS.signOut, { which: "all" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/account");
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
    await accountPage(elsewhere); // its session was not touched by the stale form
  });
});
