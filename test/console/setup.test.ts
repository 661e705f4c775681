import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Browser } from "../support/browser";
import { CONSOLE_COOKIE } from "../support/console";
import { adminCall, json } from "../support/http";

/**
 * The first administrator (README, "Administrators"): while there is none,
 * the console's setup page creates one for whoever knows the ADMIN_TOKEN;
 * once one exists, the page is gone. (Its own file: it needs a deployment
 * with no administrator yet.)
 */

const count = async () =>
  (await json<{ administrators: unknown[] }>(await adminCall("GET", "/admin/administrators")))
    .administrators.length;

describe("the console's first-run setup", () => {
  it("creates the first administrator for the ADMIN_TOKEN's holder only, once", async () => {
    expect(await count()).toBe(0);
    const browser = new Browser({ headers: { "CF-Connecting-IP": "198.18.1.1" } });
    // With no administrator, sign-in leads to setup.
    const signIn = await browser.get("/console/sign-in");
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("Location")).toBe("/console/setup");
    const page = await (await browser.get("/console/setup")).text();

    const wrong = await browser.submit(page, {
      admin_token: "not-the-token",
      username: "first-admin",
      password: "first-admin-password",
    });
    expect(wrong.status).toBe(401);
    expect(await count()).toBe(0);

    const made = await browser.submit(page, {
      admin_token: env.ADMIN_TOKEN as string,
      username: "first-admin",
      password: "first-admin-password",
    });
    expect(made.status).toBe(303);
    expect(browser.hasCookie(CONSOLE_COOKIE)).toBe(true);
    expect(
      (await json<{ administrators: unknown[] }>(await adminCall("GET", "/admin/administrators")))
        .administrators,
    ).toEqual([expect.objectContaining({ username: "first-admin", role: "admin" })]);
    expect((await browser.get("/console/administrators")).status).toBe(200);

    // Once there is one, setup is gone, even with the token.
    const stranger = new Browser();
    expect((await stranger.get("/console/setup")).headers.get("Location")).toBe("/console/sign-in");
    const again = await stranger.submit(page, {
      admin_token: env.ADMIN_TOKEN as string,
      username: "second-first",
      password: "second-first-password",
    });
    expect(again.status).toBe(303);
    expect(again.headers.get("Location")).toBe("/console/sign-in");
    expect(await count()).toBe(1);
  });
});
