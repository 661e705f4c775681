import { expect } from "vitest";
import { type Browser, hiddenFields } from "../support/browser";
import { type ConsoleAccount, consoleBrowser, newAdministrator } from "../support/console";
import { formBody, ISSUER } from "../support/http";

/**
 * An administrator's browser on the console: a new administrator of the
 * role, signed in through the real sign-in form on first use; it follows no
 * redirect, and posts forms as the pages write them (with their `_csrf`).
 */
export class ConsoleSession {
  private account: Promise<ConsoleAccount> | undefined;
  private browser: Promise<Browser> | undefined;

  constructor(readonly role: "admin" | "viewer" = "admin") {}

  /** The administrator's name (the actor of what they do). */
  async username(): Promise<string> {
    this.account ??= newAdministrator(this.role);
    return (await this.account).username;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    this.account ??= newAdministrator(this.role);
    this.browser ??= this.account.then((account) => consoleBrowser(account));
    return (await this.browser).request(path, init);
  }

  async page(path: string, status = 200): Promise<string> {
    const res = await this.request(path);
    const html = await res.text();
    expect(res.status, html.slice(0, 2000)).toBe(status);
    expect(res.headers.get("content-type")).toContain("text/html");
    return html;
  }

  /** The page's CSRF token (every page carries one, in the sign-out form at least). */
  async csrf(): Promise<string> {
    const token = hiddenFields(await this.page("/console/keys"))._csrf;
    expect(token).toBeTruthy();
    return token as string;
  }

  /** POSTs `fields` (a form as the browser sends it: repeated names allowed) with the CSRF token. */
  async post(path: string, fields: [string, string][] | Record<string, string> = {}) {
    const body = new URLSearchParams(Array.isArray(fields) ? fields : Object.entries(fields));
    if (!body.has("_csrf")) body.set("_csrf", await this.csrf());
    return this.request(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
      body: body.toString(),
    });
  }
}

/** The location of a 303 after a change, and the notice the page it leads to shows. */
export async function followDone(session: ConsoleSession, res: Response): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(303);
  const location = res.headers.get("location") as string;
  expect(location).toMatch(/[?&]done=/);
  return session.page(location);
}

/** Every form of a page that POSTs, by action (the sign-out form aside). */
export function postForms(html: string): string[] {
  return [...html.matchAll(/<form method="post" action="([^"]+)"/g)]
    .map((m) => m[1] as string)
    .filter((action) => action !== "/console/sign-out");
}

/** The text of the field error shown under a control. */
export function fieldErrorOf(html: string, controlId: string): string | undefined {
  return new RegExp(`<p class="field-error" id="${controlId}-error">([^<]*)</p>`).exec(html)?.[1];
}

export { formBody };
