import { describe, expect, it } from "vitest";
import {
  cookieAttributes,
  expectErrorPage,
  isConsentPage,
  isLoginPage,
  loginPage,
  redirectTarget,
  setCookie,
} from "../support/authorize";
import { authorizeUrl, Browser, hiddenFields, pkce } from "../support/browser";
import { registerClient, registerUser } from "../support/fixtures";
import { adminCall, call, formBody, ISSUER } from "../support/http";

/**
 * The login form that /authorize shows: an accessible form, honest error
 * messages that reveal nothing about which accounts exist, CSRF protection
 * (a per-browser token and an Origin check), and a session cookie that only
 * this site can read or send.
 */

const LOGIN_FORM = { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER };

/** POSTs /login from `browser` with exactly `fields` (no hidden field added). */
function postLogin(
  browser: Browser,
  fields: Record<string, string | undefined>,
  headers: Record<string, string> = LOGIN_FORM,
): Promise<Response> {
  return browser.request("/login", { method: "POST", headers, body: formBody(fields) });
}

describe("the login page", () => {
  it("labels each field (<label for>) and names the application", async () => {
    const client = await registerClient({ client_name: "Acme Notes" });
    const { html } = await loginPage(client);
    expect(html).toMatch(/<label for="username">[^<]+<\/label>/);
    expect(html).toMatch(/<input type="text" id="username" name="username"/);
    expect(html).toMatch(/<label for="password">[^<]+<\/label>/);
    expect(html).toMatch(/<input type="password" id="password" name="password"/);
    expect(html).toContain('autocomplete="current-password"');
    expect(html).toContain("Acme Notes");
  });

  it("is never cached nor framed (clickjacking)", async () => {
    const client = await registerClient();
    const { res } = await loginPage(client);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("escapes what it shows: a client name with markup is text", async () => {
    const client = await registerClient({ client_name: '<script>alert("x")</script>' });
    const { html } = await loginPage(client);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
  });
});

describe("signing in", () => {
  it("with the right password continues to the consent page and starts a session", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await browser.submit(html, { username: user.username, password: user.password });
    expect(res.status).toBe(200);
    expect(isConsentPage(await res.text())).toBe(true);
    expect(browser.hasCookie("__Host-ets_session")).toBe(true);
  });

  it("treats the username case-insensitively", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await browser.submit(html, {
      username: user.username.toUpperCase(),
      password: user.password,
    });
    expect(redirectTarget(res).searchParams.get("code")).toBeTruthy();
  });

  it("with a wrong password shows the form again with a message, and no session", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await browser.submit(html, { username: user.username, password: "wrong password" });
    const page = await res.text();
    expect(res.status).toBe(401);
    expect(page).toContain("The username or password is incorrect.");
    expect(isLoginPage(page)).toBe(true);
    expect(page).toContain(`value="${user.username}"`);
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
    expect(res.headers.get("location")).toBeNull();
  });

  it("with an unknown username answers exactly like a wrong password (no account enumeration)", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const wrongPassword = await loginPage(client);
    const a = await wrongPassword.browser.submit(wrongPassword.html, {
      username: user.username,
      password: "wrong password",
    });
    const unknownUser = await loginPage(client);
    const b = await unknownUser.browser.submit(unknownUser.html, {
      username: `${user.username}-nobody`,
      password: "wrong password",
    });
    expect(b.status).toBe(a.status);
    const message = (html: string) => /role="alert">([^<]*)</.exec(html)?.[1];
    expect(message(await b.text())).toBe(message(await a.text()));
  });

  it("with an empty field asks for both", async () => {
    const client = await registerClient();
    const { browser, html } = await loginPage(client);
    const res = await browser.submit(html, { username: "someone", password: "" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Enter your username and password.");
  });

  it("tells a blocked user the account is blocked, but only after the right password", async () => {
    const client = await registerClient();
    const user = await registerUser();
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);

    const wrong = await loginPage(client);
    const refused = await wrong.browser.submit(wrong.html, {
      username: user.username,
      password: "wrong password",
    });
    expect(refused.status).toBe(401);
    const refusedPage = await refused.text();
    expect(refusedPage).toContain("The username or password is incorrect.");
    expect(refusedPage).not.toMatch(/blocked/i);

    const right = await loginPage(client);
    const blocked = await right.browser.submit(right.html, {
      username: user.username,
      password: user.password,
    });
    expect(blocked.status).toBe(403);
    expect(await blocked.text()).toContain("This account is blocked");
    expect(right.browser.hasCookie("__Host-ets_session")).toBe(false);
  });
});

describe("CSRF protection of the login form", () => {
  it("refuses a post without the csrf field", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const { csrf: _, ...fields } = hiddenFields(html);
    const res = await postLogin(browser, { ...fields, ...credentials(user) });
    await expectErrorPage(res);
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
  });

  it("refuses a post without the csrf cookie (another browser replaying the form)", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { html } = await loginPage(client);
    const stranger = new Browser();
    const res = await postLogin(stranger, { ...hiddenFields(html), ...credentials(user) });
    await expectErrorPage(res);
    expect(stranger.hasCookie("__Host-ets_session")).toBe(false);
  });

  it("refuses a csrf field that belongs to another browser's cookie", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const victim = await loginPage(client);
    const attacker = await loginPage(client);
    const res = await postLogin(victim.browser, {
      ...hiddenFields(victim.html),
      csrf: hiddenFields(attacker.html).csrf,
      ...credentials(user),
    });
    await expectErrorPage(res);
    expect(victim.browser.hasCookie("__Host-ets_session")).toBe(false);
  });

  it("refuses a post from a foreign Origin even with the right token", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await postLogin(
      browser,
      { ...hiddenFields(html), ...credentials(user) },
      { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://evil.example" },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
  });

  it("answers a cross-site post with this surface's error page (HTML, not JSON), and no redirect", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await postLogin(
      browser,
      { ...hiddenFields(html), ...credentials(user) },
      { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://evil.example" },
    );
    expect(await expectErrorPage(res, 403)).toContain("not sent from this site");
  });

  it("delivers no code to a redirect URI the client removed after the page was opened", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const patched = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      redirect_uris: ["https://elsewhere.example.test/cb"],
    });
    expect(patched.status).toBe(200);
    const res = await postLogin(
      browser,
      { ...hiddenFields(html), ...credentials(user) },
      { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
    );
    expect(await expectErrorPage(res, 400)).toContain("registration has changed");
  });

  it("refuses a cross-site post that sends no Origin", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await postLogin(
      browser,
      { ...hiddenFields(html), ...credentials(user) },
      { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site" },
    );
    expect(res.status).toBe(403);
    expect(browser.hasCookie("__Host-ets_session")).toBe(false);
  });

  it("refuses an altered authorization request in the hidden field", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const fields = hiddenFields(html);
    const [body, tag] = (fields.interaction as string).split(".");
    const altered = JSON.parse(atob((body as string).replace(/-/g, "+").replace(/_/g, "/")));
    altered.r.redirectUri = "https://attacker.example/callback";
    const forged = btoa(JSON.stringify(altered))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const res = await postLogin(browser, {
      ...fields,
      interaction: `${forged}.${tag}`,
      ...credentials(user),
    });
    const page = await expectErrorPage(res);
    expect(page).not.toContain("attacker.example");
  });

  it("sets the csrf cookie HttpOnly, SameSite=Lax and Secure (the issuer is https)", async () => {
    const client = await registerClient();
    const { res } = await loginPage(client);
    const line = setCookie(res, "__Host-ets_csrf");
    expect(line).toBeTruthy();
    const attributes = cookieAttributes(line as string);
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.get("samesite")).toBe("Lax");
    expect(attributes.has("secure")).toBe(true);
    expect(attributes.get("path")).toBe("/");
  });
});

describe("cookies are __Host- cookies (RFC 6265bis: Secure, Path=/, no Domain)", () => {
  it("for the CSRF token and the session alike", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html, res } = await loginPage(client);
    const session = setCookie(await browser.submit(html, credentials(user)), "__Host-ets_session");
    for (const line of [setCookie(res, "__Host-ets_csrf"), session]) {
      expect(line).toBeTruthy();
      const attributes = cookieAttributes(line as string);
      expect(attributes.has("secure")).toBe(true);
      expect(attributes.get("path")).toBe("/");
      expect(attributes.has("domain")).toBe(false);
    }
  });
});

describe("the login session cookie", () => {
  it("is HttpOnly, SameSite=Lax, Secure, for the whole site, and lasts LOGIN_SESSION_LIFETIME", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client);
    const res = await browser.submit(html, credentials(user));
    const line = setCookie(res, "__Host-ets_session");
    expect(line).toBeTruthy();
    const attributes = cookieAttributes(line as string);
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.get("samesite")).toBe("Lax");
    expect(attributes.has("secure")).toBe(true);
    expect(attributes.get("path")).toBe("/");
    const maxAge = Number(attributes.get("max-age"));
    expect(maxAge).toBeGreaterThan(28_800 - 5);
    expect(maxAge).toBeLessThanOrEqual(28_800);
  });

  it("is signed: a session naming another account is ignored and the login form comes back", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const other = await registerUser();
    const { browser, html } = await loginPage(client);
    const line = setCookie(
      await browser.submit(html, credentials(user)),
      "__Host-ets_session",
    ) as string;
    const value = decodeURIComponent(
      line.slice("__Host-ets_session=".length).split(";")[0] as string,
    );
    const dot = value.lastIndexOf(".");
    const session = JSON.parse(atob(value.slice(0, dot).replace(/-/g, "+").replace(/_/g, "/")));
    const forgedSession = btoa(JSON.stringify({ ...session, sub: other.id }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const forged = encodeURIComponent(`${forgedSession}${value.slice(dot)}`);

    const withCookie = async (cookie: string) =>
      call(authorizeUrl(client, { challenge: (await pkce()).challenge }), {
        headers: { Cookie: `__Host-ets_session=${cookie}` },
        redirect: "manual",
      });
    // The genuine cookie, sent the same way, skips the form.
    expect(
      redirectTarget(await withCookie(encodeURIComponent(value))).searchParams.get("code"),
    ).toBeTruthy();
    const res = await withCookie(forged);
    expect(res.status).toBe(200);
    expect(isLoginPage(await res.text())).toBe(true);
  });
});

function credentials(user: { username: string; password: string }) {
  return { username: user.username, password: user.password };
}
