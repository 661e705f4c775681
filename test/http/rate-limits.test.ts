import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { usernameObject } from "../../src/users/username";
import { loginPage } from "../support/authorize";
import { Browser } from "../support/browser";
import { registerClient, registerUser } from "../support/fixtures";
import { basic, fetchWith, formBody, withinOneRateWindow } from "../support/http";

/**
 * Rate limits per client address (src/http/rate-limits.ts), with the real
 * Workers Rate Limiting bindings of wrangler.toml (10 sign-ins and 20 failed
 * client authentications a minute per address). The suite runs with
 * RATE_LIMITS=off; these tests turn it on, each from addresses of its own.
 */

const ON = { RATE_LIMITS: "on" };

// Each test counts up to a limit: inside one of the limiter's minute windows.
beforeEach(() => withinOneRateWindow(), 30_000);
let addresses = 0;
const newAddress = () => `203.0.113.${++addresses}`;

/** A browser that signs in from `address`, with the rate limits on. */
const browserAt = (address: string) =>
  new Browser({ env: ON, headers: { "CF-Connecting-IP": address } });

/** Whether a sign-in reached the name's Username object (it keeps a failure counter). */
const touched = async (username: string) =>
  (
    await runInDurableObject(await usernameObject(env, username), (_i, state) => [
      ...state.storage.kv.list(),
    ])
  ).length > 0;
const someName = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}`;

describe("sign-in attempts per client address", () => {
  it("counts failures only: fifteen successful sign-ins in a minute from one address (an office behind one NAT) all succeed", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const office = newAddress();
    for (let i = 0; i < 15; i++) {
      const { browser, html } = await loginPage(client, {}, browserAt(office));
      const res = await browser.submit(html, { username: user.username, password: user.password });
      expect(res.status, `sign-in ${i + 1}`).toBe(303);
      expect(browser.hasCookie("__Host-ets_session")).toBe(true);
    }
  });

  it("the failure over the limit (the 11th in a minute) gets 429, and from then on the address is refused before any username object is touched, even with the right password", async () => {
    const client = await registerClient();
    const user = await registerUser();
    const { browser, html } = await loginPage(client, {}, browserAt(newAddress()));
    // Ten names, one try each: the lock-out (5 per name) plays no part.
    for (let i = 0; i < 10; i++) {
      const username = i === 0 ? user.username : someName(`someone-${i}`);
      const res = await browser.submit(html, { username, password: `wrong-${i}-x` });
      expect(res.status).toBe(401);
    }
    const over = await browser.submit(html, { username: someName("over"), password: "wrong-11" });
    expect(over.status).toBe(429);
    expect(await over.text()).toContain("Too many sign-in attempts");

    const fresh = someName("never-seen");
    const refused = await browser.submit(html, { username: fresh, password: "whatever-123" });
    expect(refused.status).toBe(429);
    expect(await touched(fresh)).toBe(false);
    const owner = await browser.submit(html, { username: user.username, password: user.password });
    expect(owner.status).toBe(429);
  });

  it("successes do not make room for more failures, and a success in between does not reset them", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const address = newAddress();
    const attempt = async (username: string, password: string) => {
      const { browser, html } = await loginPage(client, {}, browserAt(address));
      return (await browser.submit(html, { username, password })).status;
    };
    for (let i = 0; i < 5; i++) expect(await attempt(someName(`a-${i}`), "wrong-pass-1")).toBe(401);
    expect(await attempt(user.username, user.password)).toBe(303);
    for (let i = 0; i < 5; i++) expect(await attempt(someName(`b-${i}`), "wrong-pass-1")).toBe(401);
    expect(await attempt(someName("c"), "wrong-pass-1")).toBe(429);
  });

  it("lets at most ten attempts from one address run at once: a burst is refused before it touches anything, though no failure is counted yet", async () => {
    const client = await registerClient();
    const { browser, html } = await loginPage(client, {}, browserAt(newAddress()));
    const names = Array.from({ length: 25 }, (_, i) => someName(`burst-${i}`));
    const statuses = await Promise.all(
      names.map(
        async (username) =>
          (await browser.submit(html, { username, password: "wrong-pass-1" })).status,
      ),
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 401).every((s) => s === 429)).toBe(true);
    const reached = (await Promise.all(names.map(touched))).filter(Boolean).length;
    expect(reached).toBeLessThanOrEqual(10);
  });

  it("another address is not held back, and the owner is never locked out by a stranger's guesses", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    // A stranger locks the name out for their own address...
    const stranger = await loginPage(client, {}, browserAt(newAddress()));
    for (let i = 0; i < 6; i++)
      await stranger.browser.submit(stranger.html, {
        username: user.username,
        password: `x-${i}-wrong`,
      });
    const locked = await stranger.browser.submit(stranger.html, {
      username: user.username,
      password: user.password,
    });
    expect(locked.status).toBe(429);
    // ...and the owner, elsewhere, signs in at once.
    const owner = await loginPage(client, {}, browserAt(newAddress()));
    const res = await owner.browser.submit(owner.html, {
      username: user.username,
      password: user.password,
    });
    expect(res.status).toBe(303);
    expect(owner.browser.hasCookie("__Host-ets_session")).toBe(true);
  });
});

describe("an IPv6 client is counted by its /64", () => {
  it("ten attempts from ten addresses of one subnet use up the subnet's minute", async () => {
    const client = await registerClient();
    for (let i = 0; i < 10; i++) {
      const page = await loginPage(client, {}, browserAt(`2001:db8:77:1::${(i + 1).toString(16)}`));
      const res = await page.browser.submit(page.html, {
        username: `v6-${i}-${crypto.randomUUID().slice(0, 6)}`,
        password: "wrong-password-1",
      });
      expect(res.status).toBe(401);
    }
    const last = await loginPage(client, {}, browserAt("2001:db8:77:1:ffff:ffff:ffff:fffe"));
    const refused = await last.browser.submit(last.html, {
      username: "v6-last",
      password: "x-123456",
    });
    expect(refused.status).toBe(429);
    // Another /64 is another bucket.
    const other = await loginPage(client, {}, browserAt("2001:db8:77:2::1"));
    const ok = await other.browser.submit(other.html, {
      username: "v6-other",
      password: "x-123456",
    });
    expect(ok.status).toBe(401);
  });
});

describe("failed client authentications per client address (/token, /revoke, /introspect)", () => {
  const tokenFrom = (address: string, authorization: string) =>
    fetchWith(ON, "/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: authorization,
        "CF-Connecting-IP": address,
      },
      body: formBody({ grant_type: "client_credentials" }),
    });

  it("after 20 failures in a minute the address gets 429, even with the right secret", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], redirect_uris: [] });
    const secret = client.client_secret as string;
    const attacker = newAddress();
    for (let i = 0; i < 20; i++) {
      expect((await tokenFrom(attacker, basic(client.client_id, `${secret}x`))).status).toBe(401);
    }
    const over = await tokenFrom(attacker, basic(client.client_id, `${secret}x`));
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe("60");
    expect((await tokenFrom(attacker, basic(client.client_id, secret))).status).toBe(429);
    // The same client from its own address is unaffected.
    expect((await tokenFrom(newAddress(), basic(client.client_id, secret))).status).toBe(200);
  });

  it("never counts successful requests: a busy client is never slowed down", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], redirect_uris: [] });
    const busy = newAddress();
    for (let i = 0; i < 40; i++) {
      const res = await tokenFrom(busy, basic(client.client_id, client.client_secret as string));
      expect(res.status).toBe(200);
    }
  });
});

describe("failed admin-token attempts", () => {
  it("are security events, and count against the address like failed client authentications", async () => {
    const address = newAddress();
    const adminFrom = (token: string) =>
      fetchWith(ON, "/admin/clients", {
        headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": address },
      });
    for (let i = 0; i < 20; i++) expect((await adminFrom(`guess-${i}`)).status).toBe(401);
    expect((await adminFrom("guess-20")).status).toBe(429);
    expect((await adminFrom(env.ADMIN_TOKEN as string)).status).toBe(429);
  });
});
