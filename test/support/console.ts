import { expect } from "vitest";
import { Browser, hiddenFields } from "./browser";
import { adminCall, ISSUER } from "./http";

/** The admin console, as an administrator's browser uses it (test/console/*). */

export const CONSOLE_COOKIE = "__Host-ets_console";

export interface ConsoleAccount {
  username: string;
  password: string;
  role: "admin" | "viewer";
}

/** A new administrator account, made through the admin API with the ADMIN_TOKEN. */
export async function newAdministrator(role: "admin" | "viewer"): Promise<ConsoleAccount> {
  const username = `${role}-${crypto.randomUUID().slice(0, 8)}`;
  const password = `pw-${crypto.randomUUID()}`;
  const res = await adminCall("POST", "/admin/administrators", { username, password, role });
  expect(res.status).toBe(201);
  return { username, password, role };
}

/** A browser signed in to the console as `account` (through the real sign-in form). */
export async function consoleBrowser(account: ConsoleAccount, address?: string): Promise<Browser> {
  const browser = new Browser(address ? { headers: { "CF-Connecting-IP": address } } : undefined);
  const page = await browser.get("/console/sign-in");
  expect(page.status).toBe(200);
  const res = await browser.submit(await page.text(), {
    username: account.username,
    password: account.password,
  });
  expect(res.status).toBe(303);
  expect(browser.hasCookie(CONSOLE_COOKIE)).toBe(true);
  return browser;
}

/** Posts a console form as the page at `pagePath` would: its CSRF token and `fields`. */
export async function postConsoleForm(
  browser: Browser,
  pagePath: string,
  action: string,
  fields: Record<string, string>,
): Promise<Response> {
  const page = await browser.get(pagePath);
  expect(page.status).toBe(200);
  const { _csrf } = hiddenFields(await page.text());
  return browser.request(action, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
    body: new URLSearchParams({ ...(_csrf ? { _csrf } : {}), ...fields }).toString(),
  });
}
