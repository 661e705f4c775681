import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { usernameObject } from "../../src/users/username";
import { loginPage, redirectTarget } from "../support/authorize";
import { Browser } from "../support/browser";
import { type RegisteredClient, registerClient, registerUser } from "../support/fixtures";

/**
 * Login lock-out (src/users/username.ts): after 5 failures in a row the
 * username is locked (30 s, doubling with each further failure), and while it
 * is locked even the right password is refused. The counter lives with the
 * username, not the account, so a name nobody holds behaves exactly the same
 * and the lock-out reveals nothing about which accounts exist.
 */

interface Attempts {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

const WRONG = "not the password";

/** A login form to post to, as many times as a test wants. */
async function form(client: RegisteredClient): Promise<(u: string, p: string) => Promise<Attempt>> {
  const { browser, html } = await loginPage(client);
  return async (username, password) => attempt(browser, html, username, password);
}

interface Attempt {
  status: number;
  message: string | undefined;
  res: Response;
}

async function attempt(
  browser: Browser,
  html: string,
  username: string,
  password: string,
): Promise<Attempt> {
  const res = await browser.submit(html, { username, password });
  const page = res.status === 200 || res.status >= 400 ? await res.clone().text() : "";
  return { status: res.status, message: /role="alert">([^<]*)</.exec(page)?.[1], res };
}

const usernameStub = (username: string) => usernameObject(env, username);

/** The counter of the one address these tests sign in from (none: the shared "unknown" bucket). */
async function storedAttempts(username: string): Promise<Attempts | undefined> {
  return runInDurableObject(await usernameStub(username), (_instance, state) => {
    const counters = [...state.storage.kv.list<Attempts>({ prefix: "attempts:" })];
    return counters[0]?.[1];
  });
}

describe("login lock-out", () => {
  it("after 5 failures the username is locked: a 429 page with a retry message", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const login = await form(client);
    for (let i = 0; i < 5; i++) expect((await login(user.username, WRONG)).status).toBe(401);
    const locked = await login(user.username, WRONG);
    expect(locked.status).toBe(429);
    expect(locked.message).toMatch(/^Too many failed attempts\. Try again in \d+ minutes?\.$/);
  });

  it("while locked, the right password is refused too", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const login = await form(client);
    for (let i = 0; i < 5; i++) await login(user.username, WRONG);
    const right = await login(user.username, user.password);
    expect(right.status).toBe(429);
    expect(right.res.headers.get("location")).toBeNull();
    expect(right.res.headers.getSetCookie().some((c) => c.startsWith("__Host-ets_session="))).toBe(
      false,
    );
  });

  it("fewer than 5 failures lock nothing, and a success resets the count", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const login = await form(client);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect((await login(user.username, WRONG)).status).toBe(401);
      const ok = await login(user.username, user.password);
      expect(redirectTarget(ok.res).searchParams.get("code")).toBeTruthy();
    }
    expect(await storedAttempts(user.username)).toBeUndefined();
  });

  it("a username nobody holds is locked the same way, with the same messages (no enumeration)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const nobody = `${user.username}-nobody`;
    const login = await form(client);
    const real: Attempt[] = [];
    const fake: Attempt[] = [];
    for (let i = 0; i < 6; i++) {
      real.push(await login(user.username, WRONG));
      fake.push(await login(nobody, WRONG));
    }
    expect(fake.map((a) => a.status)).toEqual(real.map((a) => a.status));
    expect(fake.map((a) => a.message)).toEqual(real.map((a) => a.message));
    expect(real.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("locks one username only: another account signs in as usual", async () => {
    const client = await registerClient({ consent: "implicit" });
    const victim = await registerUser();
    const other = await registerUser();
    const login = await form(client);
    for (let i = 0; i < 6; i++) await login(victim.username, WRONG);
    const ok = await login(other.username, other.password);
    expect(redirectTarget(ok.res).searchParams.get("code")).toBeTruthy();
  });

  it("parallel guesses cannot slip through: each is counted before its password is checked", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const login = await form(client);
    const results = await Promise.all(Array.from({ length: 8 }, () => login(user.username, WRONG)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect((await login(user.username, user.password)).status).toBe(429);
  });

  it("when the lock runs out the right password works; another failure locks for twice as long", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const login = await form(client);
    for (let i = 0; i < 5; i++) await login(user.username, WRONG);
    const first = await storedAttempts(user.username);
    expect(first?.failures).toBe(5);
    expect((first?.lockedUntil ?? 0) - (first?.lastFailureAt ?? 0)).toBe(30_000);

    // Test setup: end the lock now instead of waiting 30 s.
    const unlock = async () =>
      runInDurableObject(await usernameStub(user.username), (_instance, state) => {
        for (const [key, attempts] of state.storage.kv.list<Attempts>({ prefix: "attempts:" }))
          state.storage.kv.put(key, { ...attempts, lockedUntil: Date.now() - 1 });
      });
    await unlock();
    expect((await login(user.username, WRONG)).status).toBe(401);
    const second = await storedAttempts(user.username);
    expect(second?.failures).toBe(6);
    expect((second?.lockedUntil ?? 0) - (second?.lastFailureAt ?? 0)).toBe(60_000);
    expect((await login(user.username, user.password)).status).toBe(429);

    await unlock();
    const ok = await login(user.username, user.password);
    expect(redirectTarget(ok.res).searchParams.get("code")).toBeTruthy();
    expect(await storedAttempts(user.username)).toBeUndefined();
  });
});

describe("what a typed name leaves behind", () => {
  it("no object named after it (an HMAC names it), and for a name with no account only the lock-out counter", async () => {
    const client = await registerClient();
    const login = await form(client);
    const typed = `maybe-a-password-${crypto.randomUUID().slice(0, 8)}`;
    expect((await login(typed, WRONG)).status).toBe(401);
    const holder = await usernameStub(typed);
    expect(holder.id.toString()).not.toBe(env.USERNAME.idFromName(typed).toString());
    const keys = await runInDurableObject(holder, (_instance, state) => [
      ...state.storage.kv.list(),
    ]);
    expect(keys.map(([key]) => key).sort()).toEqual([
      expect.stringMatching(/^attempts:[0-9a-f]{32}$/),
      "name-attempts",
    ]);
    expect(JSON.stringify(keys)).not.toContain(typed);
  });
});

describe("guesses spread over many addresses", () => {
  it("lock the name for addresses that never signed in to it, and never for the owner's own", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const from = (address: string) => new Browser({ headers: { "CF-Connecting-IP": address } });
    // The owner signs in once from home: that address is now known to the name.
    const home = await loginPage(client, {}, from("198.51.100.20"));
    expect(
      (await home.browser.submit(home.html, { username: user.username, password: user.password }))
        .status,
    ).toBe(303);
    // Twenty strangers, one wrong guess each: no address reaches its own limit.
    for (let i = 1; i <= 20; i++) {
      const stranger = await loginPage(client, {}, from(`192.0.2.${i}`));
      const res = await stranger.browser.submit(stranger.html, {
        username: user.username,
        password: `guess-${i}-x`,
      });
      expect(res.status).toBe(401);
    }
    // A new address is held back now, even with the right password...
    const fresh = await loginPage(client, {}, from("192.0.2.200"));
    const refused = await fresh.browser.submit(fresh.html, {
      username: user.username,
      password: user.password,
    });
    expect(refused.status).toBe(429);
    // ...while the owner's known address still gets in.
    const again = await loginPage(client, {}, from("198.51.100.20"));
    expect(
      (await again.browser.submit(again.html, { username: user.username, password: user.password }))
        .status,
    ).toBe(303);
  });
});
