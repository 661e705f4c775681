/**
 * The login and consent pages, walked as a person would: a wrong password, a
 * keyboard-only sign-in, the consent page, Allow (and the code redeemed at
 * /token), Deny (access_denied), in light, dark and on a phone.
 */
import assert from "node:assert/strict";
import { check, checkClean, DESKTOP, MOBILE, openContext, screenshot } from "./harness.mjs";
import { checkLooks } from "./looks.mjs";
import { authorizeUrl, DEMO, jwtPayload, SCOPES } from "./oauth.mjs";

/** The titles the consent page gives these scopes (src/browser/pages/consent.tsx). */
const SCOPE_TITLES = [
  "Know who you are",
  "See your profile",
  "See your email address",
  "Stay connected",
];

/** Light scheme, confidential client: wrong password, keyboard-only sign-in, consent, Allow, /token. */
export async function allowFlow(browser, origin) {
  const { context, page, problems, expectRefusal } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  const request = authorizeUrl(origin, DEMO.confidential.clientId);
  await page.goto(request.url);

  await check("login: the heading says Sign in and names the application", async () => {
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.match(await page.locator("main").textContent(), /Demo Confidential App/);
  });
  await check("login: username and password are reachable by their labels", async () => {
    assert.ok(await page.getByLabel("Username").isVisible());
    assert.ok(await page.getByLabel("Password").isVisible());
    assert.equal(await page.getByLabel("Password").getAttribute("type"), "password");
    assert.equal(await page.getByLabel("Username").getAttribute("autocomplete"), "username");
  });
  await check("login: the username field has focus when the page opens", async () => {
    assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
  });
  await checkLooks(page, "login (light)");
  await screenshot(page, "login-light");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill("not-the-password");
  await expectRefusal(401, async () => {
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
  });
  await check(
    "login: a wrong password shows the error message and keeps the username",
    async () => {
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.equal((await alert.textContent()).trim(), "The username or password is incorrect.");
      assert.equal(await page.getByLabel("Username").inputValue(), DEMO.user.username);
      assert.equal(await page.getByLabel("Password").inputValue(), "");
    },
  );
  await check(
    "login: after an error the password field has focus and is described by it",
    async () => {
      assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
      const password = page.getByLabel("Password");
      assert.equal(await password.getAttribute("aria-invalid"), "true");
      const describedBy = await password.getAttribute("aria-describedby");
      assert.equal(await page.locator(`#${describedBy}`).getAttribute("role"), "alert");
    },
  );
  await checkLooks(page, "login with error (light)");
  await screenshot(page, "login-error-light");

  // Keyboard only from here: Shift+Tab, Tab, typing and Enter, no clicks.
  await check(
    "login: keyboard-only sign-in (Tab order username → password → Sign in, Enter)",
    async () => {
      await page.keyboard.press("Shift+Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "username");
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
      await page.keyboard.type(DEMO.user.password);
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          text: el?.textContent?.trim(),
          outline: style.outlineStyle,
          width: style.outlineWidth,
        };
      });
      assert.equal(focused.text, "Sign in");
      assert.ok(
        focused.outline !== "none" && Number.parseFloat(focused.width) >= 2,
        `the focused button shows a focus ring (outline ${focused.outline} ${focused.width})`,
      );
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: /Allow Demo Confidential App/ }).waitFor();
    },
  );

  await check("consent: it names the application, the user and every requested scope", async () => {
    const text = await page.locator("main").textContent();
    assert.match(text, /Signed in as\s+demo/);
    const items = await page
      .getByRole("list", { name: "Requested permissions" })
      .getByRole("listitem")
      .allInnerTexts();
    assert.equal(items.length, SCOPES.length);
    SCOPE_TITLES.forEach((title, i) => {
      assert.ok(items[i].startsWith(title), `item ${i} is "${items[i]}", expected "${title}…"`);
    });
  });
  await check("consent: it offers Allow and Deny buttons", async () => {
    assert.ok(await page.getByRole("button", { name: "Allow", exact: true }).isVisible());
    assert.ok(await page.getByRole("button", { name: "Deny", exact: true }).isVisible());
  });
  await checkLooks(page, "consent (light)");
  await screenshot(page, "consent-light");

  await page.getByRole("button", { name: "Allow", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  const callback = new URL(page.url());
  await check("allow: the browser lands on /dev/callback with a code and the same state", () => {
    assert.equal(callback.searchParams.get("error"), null);
    assert.match(callback.searchParams.get("code") ?? "", /^ac1\./);
    assert.equal(callback.searchParams.get("state"), request.state);
  });
  await check(
    "allow: the code redeems at /token with the PKCE verifier (RFC 7636 §4.5)",
    async () => {
      const basic = Buffer.from(
        `${DEMO.confidential.clientId}:${DEMO.confidential.secret}`,
      ).toString("base64");
      const res = await fetch(`${origin}/token`, {
        method: "POST",
        headers: {
          Authorization: `Basic ${basic}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: callback.searchParams.get("code") ?? "",
          redirect_uri: `${origin}/dev/callback`,
          code_verifier: request.verifier,
        }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.token_type, "Bearer");
      assert.match(body.refresh_token, /^rt1\./);
      assert.equal(jwtPayload(body.access_token).client_id, DEMO.confidential.clientId);
      const id = jwtPayload(body.id_token);
      assert.equal(id.aud, DEMO.confidential.clientId);
      assert.equal(id.nonce, request.nonce);
      assert.equal(id.iss, origin);
    },
  );
  await checkClean(problems, "light flow");
  await context.close();
}

/** Dark scheme, public client: error and consent screenshots, then Deny. */
export async function denyFlow(browser, origin) {
  const { context, page, problems, expectRefusal } = await openContext(browser, origin, {
    viewport: DESKTOP,
    colorScheme: "light",
  });
  await page.emulateMedia({ colorScheme: "dark" });
  await check("dark: the page follows prefers-color-scheme: dark", async () => {
    assert.ok(await page.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches));
  });
  const request = authorizeUrl(origin, DEMO.public.clientId);
  await page.goto(request.url);
  await page.getByLabel("Username").waitFor();
  await check("dark: the card is dark", async () => {
    const bg = await page.locator("main").evaluate((el) => getComputedStyle(el).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 3 * 80, `card background ${bg}`);
  });
  await checkLooks(page, "login (dark)");
  await screenshot(page, "login-dark");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill("wrong-again");
  await expectRefusal(401, async () => {
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
  });
  await checkLooks(page, "login with error (dark)");
  await screenshot(page, "login-error-dark");

  await page.getByLabel("Password").fill(DEMO.user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Allow Demo Public App/ }).waitFor();
  await checkLooks(page, "consent (dark)");
  await screenshot(page, "consent-dark");

  await page.getByRole("button", { name: "Deny", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  await check(
    "deny: the callback gets error=access_denied and the state (RFC 6749 §4.1.2.1)",
    () => {
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("error"), "access_denied");
      assert.equal(url.searchParams.get("code"), null);
      assert.equal(url.searchParams.get("state"), request.state);
    },
  );
  await checkClean(problems, "dark flow");
  await context.close();
}

/** A 390 px wide phone: the same pages must fit without horizontal scrolling. */
export async function mobileFlow(browser, origin) {
  const { context, page, problems } = await openContext(browser, origin, {
    viewport: MOBILE,
    colorScheme: "light",
    isMobile: true,
    hasTouch: true,
  });
  // prompt=consent: the user already allowed this client in the light flow.
  const request = authorizeUrl(origin, DEMO.confidential.clientId, { prompt: "consent" });
  await page.goto(request.url);
  await page.getByLabel("Username").waitFor();
  await checkLooks(page, "login (390px)");
  await screenshot(page, "login-mobile");

  await page.getByLabel("Username").fill(DEMO.user.username);
  await page.getByLabel("Password").fill(DEMO.user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Allow Demo Confidential App/ }).waitFor();
  await checkLooks(page, "consent (390px)");
  await screenshot(page, "consent-mobile");

  // The dev callback page shows a long code and a curl command: it must wrap.
  await page.getByRole("button", { name: "Allow", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/dev/callback");
  await check(
    "callback (390px): the code and the curl command wrap, no horizontal scrolling",
    async () => {
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= clientWidth, `scrollWidth ${scrollWidth} > ${clientWidth}`);
      assert.match(await page.locator("pre").textContent(), /code_verifier=/);
    },
  );
  await checkClean(problems, "390px flow");
  await context.close();
}
