import { exports } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { expect } from "vitest";
import { isConsentPage, isLoginPage } from "./authorize";
import { Browser } from "./browser";
import type { TestUser } from "./fixtures";

/**
 * What the certified relying-party libraries need to run against the Worker
 * in workerd: their fetch routed to the Worker's own fetch handler (there is
 * no network here), and the user's part of a flow driven by the test Browser.
 */

export const toWorker = (url: string, options: oauth.CustomFetchOptions<string, unknown>) =>
  exports.default.fetch(new Request(url, options as RequestInit));

export const throughWorker = { [oauth.customFetch]: toWorker };

/**
 * The user's part: the pages between the authorization URL and the redirect
 * back (a `browser` of the caller's, e.g. one whose requests run with other vars).
 */
export async function userSignsInAndAllows(
  url: URL,
  user: TestUser,
  browser = new Browser(),
): Promise<URL> {
  let res = await browser.get(url.toString());
  let html = await res.text();
  expect(isLoginPage(html)).toBe(true);
  res = await browser.submit(html, { username: user.username, password: user.password });
  html = await res.text();
  if (isConsentPage(html)) res = await browser.submit(html, { decision: "allow" });
  expect([302, 303]).toContain(res.status);
  return new URL(res.headers.get("location") as string);
}
