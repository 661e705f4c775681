import { beforeEach, describe, expect, it } from "vitest";
import { expectTokenError, isConsentPage, isLoginPage, signIn } from "../support/authorize";
import { Browser } from "../support/browser";
import {
  answerOnPage,
  approve,
  deviceCodes,
  deviceState,
  enterUserCode,
  expired,
  poll,
  registerDeviceClient,
} from "../support/device";
import { registerClient, registerUser } from "../support/fixtures";
import { adminCall, withinOneRateWindow } from "../support/http";

/**
 * The verification page of the device authorization grant (RFC 8628 §3.3):
 * the code typed at /device, then the login and consent pages of the code
 * flow; and what it does against guessing (§5.1) and remote phishing (§5.4).
 */

const NOT_A_CODE = "That code is not valid, has expired, or was already used.";

describe("the verification page (RFC 8628 §3.3)", () => {
  it("GET /device asks for the code; verification_uri_complete fills it in, and still waits for the user to submit it", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    const blank = await new Browser().get("/device");
    expect(blank.status).toBe(200);
    expect(await blank.text()).toContain('name="user_code"');
    const complete = new URL(codes.verification_uri_complete);
    const filled = await new Browser().get(`${complete.pathname}${complete.search}`);
    const html = await filled.text();
    expect(html).toContain(`value="${codes.user_code}"`);
    expect(isLoginPage(html) || isConsentPage(html)).toBe(false);
    expect(await deviceState(codes.device_code)).toMatchObject({ decision: { kind: "waiting" } });
  });

  it("takes the code in any case, with or without the dash, with spaces (§6.1)", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    const typed = ` ${codes.user_code.toLowerCase().replace("-", " ")} `;
    const res = await enterUserCode(new Browser(), typed);
    expect(res.status).toBe(200);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it("signs the user in with the login page, then always shows the consent page with the code to check, even for a first-party client (§3.3.1, §5.4)", async () => {
    const client = await registerDeviceClient({ consent: "implicit" });
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid profile" });
    const browser = new Browser();
    const res = await enterUserCode(browser, codes.user_code);
    const login = await res.text();
    expect(isLoginPage(login)).toBe(true);
    expect(login).toContain("Living Room TV");
    const after = await browser.submit(login, { username: user.username, password: user.password });
    const consent = await after.text();
    expect(isConsentPage(consent)).toBe(true);
    expect(consent).toContain(codes.user_code);
    expect(consent).toContain("signing in on a device");
    expect(consent).toContain("See your profile");
    // Nothing approved until the user allows.
    expect(await deviceState(codes.device_code)).toMatchObject({ decision: { kind: "waiting" } });
    const done = await browser.submit(consent, { decision: "allow" });
    expect(await done.text()).toContain("Device connected");

    // Signed in already: a second device goes straight to the consent page.
    const second = await deviceCodes(client);
    const next = await enterUserCode(browser, second.user_code);
    expect(isConsentPage(await next.text())).toBe(true);
  });

  it("a wrong code, a malformed one, and one already answered all get the same answer", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client);
    await approve(user, codes.user_code);
    for (const typed of ["BCDF-GHJK", "hello", "AAAA-AAAA", codes.user_code]) {
      const res = await enterUserCode(new Browser(), typed);
      expect(res.status, typed).toBe(400);
      expect(await res.text()).toContain(NOT_A_CODE);
    }
  });

  it("an expired code is refused at the page", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    await expired(codes.device_code);
    const res = await enterUserCode(new Browser(), codes.user_code);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(NOT_A_CODE);
  });

  it("one user's approval: a second user who holds the code cannot approve it too, nor take it into their grants", async () => {
    const client = await registerDeviceClient();
    const alice = await registerUser();
    const mallory = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid offline_access" });
    // Both reach the consent page; Alice allows first.
    const pageFor = async (user: typeof alice) => {
      const browser = new Browser();
      const res = await enterUserCode(browser, codes.user_code);
      const html = await browser
        .submit(await res.text(), { username: user.username, password: user.password })
        .then((r) => r.text());
      expect(isConsentPage(html)).toBe(true);
      return { browser, html };
    };
    const a = await pageFor(alice);
    const m = await pageFor(mallory);
    expect(await (await a.browser.submit(a.html, { decision: "allow" })).text()).toContain(
      "Device connected",
    );
    const late = await m.browser.submit(m.html, { decision: "allow" });
    expect(late.status).toBe(400);
    const tokens = await poll(client, codes.device_code).then((r) => r.json());
    expect(tokens).toHaveProperty("access_token");
    const grantsOf = async (id: string) =>
      (
        (await (await adminCall("GET", `/admin/users/${id}/grants`)).json()) as {
          grants: { client_id: string }[];
        }
      ).grants;
    expect(await grantsOf(alice.id)).toHaveLength(1);
    expect(await grantsOf(mallory.id)).toHaveLength(0);
  });

  it("the approved device authorization is one of the user's grants: blocking the user before the device polls refuses the poll", async () => {
    const client = await registerDeviceClient();
    const user = await registerUser();
    const codes = await deviceCodes(client, { scope: "openid offline_access" });
    await approve(user, codes.user_code);
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);
    await expectTokenError(await poll(client, codes.device_code), "invalid_grant");
  });

  it("a form posted from another site is refused (Origin check), whatever it carries", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    const browser = new Browser();
    const entry = await (await browser.get("/device")).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(entry)?.[1] as string;
    const res = await browser.request("/device", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: "https://evil.example",
      },
      body: new URLSearchParams({ csrf, user_code: codes.user_code }).toString(),
    });
    expect(res.status).toBe(403);
  });

  it("a code for a client that has since lost the device grant is refused at the page", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: ["https://app.example.test/callback"],
    });
    const res = await enterUserCode(new Browser(), codes.user_code);
    expect(res.status).toBe(400);
  });

  it("signing in for a code flow and a device in one browser keeps the two apart", async () => {
    const web = await registerClient({ consent: "implicit" });
    const device = await registerDeviceClient();
    const user = await registerUser();
    const browser = new Browser();
    await signIn(browser, web, user);
    const codes = await deviceCodes(device);
    const { html } = await answerOnPage(user, codes.user_code, "allow", browser);
    expect(html).toContain("Device connected");
  });
});

describe("guessing user codes (RFC 8628 §5.1)", () => {
  const ON = { RATE_LIMITS: "on" };
  // Each test counts up to a limit: inside one of the limiter's minute windows.
  beforeEach(() => withinOneRateWindow(), 30_000);
  let n = 0;
  const browserAt = () =>
    new Browser({ env: ON, headers: { "CF-Connecting-IP": `198.51.100.${++n}` } });

  it("wrong codes count per address: the 6th in a minute is 429, and then even a right code from that address is refused before it is looked up", async () => {
    const client = await registerDeviceClient();
    const codes = await deviceCodes(client);
    const browser = browserAt();
    const page = await (await browser.get("/device")).text();
    const wrong = ["BCDF-BCDF", "GHJK-GHJK", "LMNP-LMNP", "QRST-QRST", "VWXZ-VWXZ"];
    for (const typed of wrong) {
      const res = await browser.submit(page, { user_code: typed });
      expect(res.status, typed).toBe(400);
    }
    const over = await browser.submit(page, { user_code: "BBBB-CCCC" });
    expect(over.status).toBe(429);
    expect(await over.text()).toContain("Too many codes");
    const right = await browser.submit(page, { user_code: codes.user_code });
    expect(right.status).toBe(429);
    // Another address is not affected.
    const elsewhere = browserAt();
    const ok = await elsewhere.submit(await (await elsewhere.get("/device")).text(), {
      user_code: codes.user_code,
    });
    expect(ok.status).toBe(200);
  });

  it("a burst of guesses sent at once from one address is looked up one at a time: the rest are refused unasked", async () => {
    const browser = browserAt();
    const page = await (await browser.get("/device")).text();
    const guesses = ["BCDF-GHJK", "LMNP-QRST", "VWXZ-BCDF", "GHJK-LMNP", "QRST-VWXZ", "BBBB-DDDD"];
    const statuses = (
      await Promise.all(guesses.map((user_code) => browser.submit(page, { user_code })))
    ).map((res) => res.status);
    // At most one lookup ran before the others arrived; they were turned away (429), not looked up.
    expect(statuses.filter((status) => status === 400).length).toBeLessThanOrEqual(2);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(4);
  });

  it("right codes and malformed input are not counted", async () => {
    const client = await registerDeviceClient();
    const browser = browserAt();
    const page = await (await browser.get("/device")).text();
    for (let i = 0; i < 8; i++) {
      const codes = await deviceCodes(client);
      expect((await browser.submit(page, { user_code: codes.user_code })).status).toBe(200);
      expect((await browser.submit(page, { user_code: "nope" })).status).toBe(400);
    }
  });
});
