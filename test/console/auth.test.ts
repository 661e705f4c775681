import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { Browser } from "../support/browser";
import {
  CONSOLE_COOKIE,
  consoleBrowser,
  newAdministrator,
  postConsoleForm,
} from "../support/console";
import { adminCall, call, ISSUER, json } from "../support/http";

/**
 * Who may use the console (src/console/auth.tsx): administrators with their
 * own sessions, every form CSRF-checked, viewers refused every change.
 */

const PAGE = "/console/administrators";
let addresses = 0;
const newAddress = () => `198.18.0.${++addresses}`;

const administratorNames = async () =>
  (
    await json<{ administrators: { username: string; role: string }[] }>(
      await adminCall("GET", "/admin/administrators"),
    )
  ).administrators;

describe("console sign-in", () => {
  it("sends a visitor without a session to sign in, and back to the page they asked for", async () => {
    const admin = await newAdministrator("admin");
    const browser = new Browser();
    const first = await browser.get(`${PAGE}?done=created`);
    expect(first.status).toBe(303);
    expect(first.headers.get("Location")).toBe(
      `/console/sign-in?next=${encodeURIComponent(`${PAGE}?done=created`)}`,
    );
    const signInPage = await browser.get(first.headers.get("Location") as string);
    const res = await browser.submit(await signInPage.text(), {
      username: admin.username,
      password: admin.password,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${PAGE}?done=created`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${CONSOLE_COOKIE}=`));
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).not.toMatch(/Domain=/i);
    const page = await browser.get(PAGE);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(admin.username);
  });

  it("never sends anyone off-site after signing in", async () => {
    const admin = await newAdministrator("admin");
    for (const next of [
      "https://evil.example/",
      "//evil.example/x",
      "/authorize",
      "/console//evil.example",
    ]) {
      const browser = new Browser();
      const page = await browser.get(`/console/sign-in?next=${encodeURIComponent(next)}`);
      const res = await browser.submit(await page.text(), {
        username: admin.username,
        password: admin.password,
      });
      expect(res.headers.get("Location")).toBe("/console");
    }
  });

  it("refuses a wrong password with the form again, and opens no session", async () => {
    const admin = await newAdministrator("admin");
    const browser = new Browser({ headers: { "CF-Connecting-IP": newAddress() } });
    const page = await browser.get("/console/sign-in");
    const res = await browser.submit(await page.text(), {
      username: admin.username,
      password: "not-the-password",
    });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain("incorrect");
    expect(html).not.toContain("not-the-password");
    expect(browser.hasCookie(CONSOLE_COOKIE)).toBe(false);
    expect((await browser.get(PAGE)).status).toBe(303);
  });

  it("a forged, expired or signed-out session cookie gets nobody in", async () => {
    const admin = await newAdministrator("admin");
    const forged = await call(PAGE, {
      headers: { Cookie: `${CONSOLE_COOKIE}=${"A".repeat(43)}` },
      redirect: "manual",
    });
    expect(forged.status).toBe(303);

    const browser = await consoleBrowser(admin);
    const cookieBefore = await browser.get(PAGE);
    expect(cookieBefore.status).toBe(200);
    const signedOut = await postConsoleForm(browser, PAGE, "/console/sign-out", {});
    expect(signedOut.status).toBe(303);
    expect(browser.hasCookie(CONSOLE_COOKIE)).toBe(false);
    expect((await browser.get(PAGE)).status).toBe(303);
  });

  it("ends a session on the server at sign-out: the old cookie, replayed, is refused", async () => {
    const admin = await newAdministrator("admin");
    const browser = new Browser();
    const signIn = await browser.submit(await (await browser.get("/console/sign-in")).text(), {
      username: admin.username,
      password: admin.password,
    });
    const cookie = signIn.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${CONSOLE_COOKIE}=`))
      ?.split(";")[0] as string;
    const replay = () => call(PAGE, { headers: { Cookie: cookie }, redirect: "manual" });
    expect((await replay()).status).toBe(200);
    await postConsoleForm(browser, PAGE, "/console/sign-out", {});
    expect((await replay()).status).toBe(303);
  });

  it("ends every session of an administrator whose role or password changes", async () => {
    const admin = await newAdministrator("admin");
    const browser = await consoleBrowser(admin);
    expect((await browser.get(PAGE)).status).toBe(200);
    await adminCall("PATCH", `/admin/administrators/${admin.username}`, { role: "viewer" });
    expect((await browser.get(PAGE)).status).toBe(303);

    const other = await newAdministrator("admin");
    const second = await consoleBrowser(other);
    await adminCall("PUT", `/admin/administrators/${other.username}/password`, {
      password: "another-password",
    });
    expect((await second.get(PAGE)).status).toBe(303);
  });
});

describe("console forms", () => {
  it("act with the session's CSRF token, from this site only; without either nothing changes", async () => {
    const admin = await newAdministrator("admin");
    const browser = await consoleBrowser(admin);
    const name = `made-${crypto.randomUUID().slice(0, 8)}`;
    const fields = { username: name, password: "long-enough-password", role: "viewer" };
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      browser.request(PAGE, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(body).toString(),
      });
    expect((await post({ Origin: ISSUER }, fields)).status).toBe(403);
    expect((await post({ Origin: ISSUER }, { ...fields, _csrf: "forged" })).status).toBe(403);
    const page = await browser.get(PAGE);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
    expect(csrf).toBeTruthy();
    expect(
      (await post({ Origin: "https://evil.example" }, { ...fields, _csrf: csrf })).status,
    ).toBe(403);
    expect((await administratorNames()).map((a) => a.username)).not.toContain(name);

    const made = await post({ Origin: ISSUER }, { ...fields, _csrf: csrf });
    expect(made.status).toBe(303);
    expect(made.headers.get("Location")).toBe(`${PAGE}?done=created`);
    expect((await administratorNames()).map((a) => a.username)).toContain(name);
  });

  it("another administrator's CSRF token does not work in this session", async () => {
    const mine = await consoleBrowser(await newAdministrator("admin"));
    const theirs = await consoleBrowser(await newAdministrator("admin"));
    const theirCsrf = /name="_csrf" value="([^"]+)"/.exec(
      await (await theirs.get(PAGE)).text(),
    )?.[1];
    const res = await mine.request(PAGE, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
      body: new URLSearchParams({
        _csrf: theirCsrf as string,
        username: "nobody-made",
        password: "long-enough-password",
        role: "viewer",
      }).toString(),
    });
    expect(res.status).toBe(403);
  });

  it("show a refused field on the page, not as a crash", async () => {
    const browser = await consoleBrowser(await newAdministrator("admin"));
    const res = await postConsoleForm(browser, PAGE, PAGE, {
      username: "bad name",
      password: "long-enough-password",
      role: "viewer",
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("username: may contain letters");
  });
});

describe("a viewer", () => {
  it("sees the pages without any form that changes something", async () => {
    const browser = await consoleBrowser(await newAdministrator("viewer"));
    const page = await browser.get(PAGE);
    expect(page.status).toBe(200);
    const actions = [...(await page.text()).matchAll(/<form[^>]*action="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(actions.filter((a) => a !== "/console/sign-out")).toEqual([]);
  });

  it("is refused by every mutating route of the console, and nothing changes", async () => {
    const viewer = await newAdministrator("viewer");
    const browser = await consoleBrowser(viewer);
    const before = await administratorNames();
    const routes = createApp()
      .routes.filter(
        (r) =>
          r.path.startsWith("/console/") &&
          r.method === "POST" &&
          !["/console/sign-in", "/console/setup", "/console/sign-out"].includes(r.path),
      )
      .map((r) => r.path.replace(/:[a-z]+/g, viewer.username));
    expect(routes.length).toBeGreaterThanOrEqual(4);
    for (const path of new Set(routes)) {
      const res = await postConsoleForm(browser, PAGE, path, {
        username: "x-made-by-viewer",
        password: "long-enough-password",
        role: "admin",
      });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect(await administratorNames()).toEqual(before);
  });
});

describe("the console's root", () => {
  it("answers a POST to /console itself with a page, not a crash", async () => {
    const browser = await consoleBrowser(await newAdministrator("admin"));
    const res = await postConsoleForm(browser, PAGE, "/console", {});
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("There is no console page");
  });
});
