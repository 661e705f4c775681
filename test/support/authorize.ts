import { expect } from "vitest";
import { type AuthorizeOptions, authorizeUrl, Browser, pkce } from "./browser";
import { REDIRECT_URI, type RegisteredClient, type TestUser, tokenRequest } from "./fixtures";
import { call, DESCRIPTION_CHARSET, ISSUER } from "./http";

/**
 * Helpers for the browser side (/authorize, /login, /consent) and the
 * authorization code it ends in: read what a page or a redirect says, and
 * stop a flow at the step a test wants to look at.
 */

export const isLoginPage = (html: string): boolean => html.includes('action="/login"');
export const isConsentPage = (html: string): boolean => html.includes('action="/consent"');

/** The redirect back to the client: a 302/303 with a Location on the registered redirect URI. */
export function redirectTarget(res: Response): URL {
  expect([302, 303], `expected a redirect, got ${res.status}`).toContain(res.status);
  const location = res.headers.get("location");
  expect(location, "the redirect has a Location").toBeTruthy();
  return new URL(location as string);
}

/**
 * An authorization error sent back to the client (RFC 6749 §4.1.2.1): on the
 * redirect URI, with `error`, the request's `state`, and RFC 9207's `iss`.
 */
export function expectRedirectedError(
  res: Response,
  error: string,
  options: { state?: string; redirectUri?: string } = {},
): URL {
  const url = redirectTarget(res);
  expect(`${url.origin}${url.pathname}`).toBe(options.redirectUri ?? REDIRECT_URI);
  expect(url.searchParams.get("error")).toBe(error);
  expect(url.searchParams.get("error_description")).toMatch(DESCRIPTION_CHARSET);
  expect(url.searchParams.get("iss")).toBe(ISSUER);
  expect(url.searchParams.get("code")).toBeNull();
  expect(url.searchParams.get("state")).toBe(options.state ?? null);
  return url;
}

/** An error shown on our own page and never redirected (no Location header at all). */
export async function expectErrorPage(res: Response, status = 400): Promise<string> {
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(status);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  return html;
}

/** One Set-Cookie line of a response, by cookie name. */
export function setCookie(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

/** The attributes of a Set-Cookie line, lower-cased names (`httponly`, `samesite`, ...). */
export function cookieAttributes(line: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of line.split(";").slice(1)) {
    const [name, ...value] = part.trim().split("=");
    attributes.set((name as string).toLowerCase(), value.join("="));
  }
  return attributes;
}

/** Opens /authorize and, if the login form comes, signs in; returns the page or redirect after it. */
export async function signIn(
  browser: Browser,
  client: RegisteredClient,
  user: Pick<TestUser, "username" | "password">,
  options: AuthorizeOptions = {},
): Promise<Response> {
  const res = await browser.get(authorizeUrl(client, options));
  const html = await res.text();
  expect(isLoginPage(html), html.slice(0, 300)).toBe(true);
  return browser.submit(html, { username: user.username, password: user.password });
}

/** The login page for a new authorization request, in a browser with no session. */
export async function loginPage(
  client: RegisteredClient,
  options: AuthorizeOptions = {},
  browser = new Browser(),
): Promise<{ browser: Browser; res: Response; html: string }> {
  const res = await browser.get(authorizeUrl(client, options));
  const html = await res.text();
  expect(res.status).toBe(200);
  expect(isLoginPage(html)).toBe(true);
  return { browser, res, html };
}

export interface IssuedCode {
  code: string;
  verifier: string;
  redirect: URL;
  browser: Browser;
}

/**
 * Drives the pages (login, consent when asked) with PKCE and returns the
 * authorization code, not yet redeemed.
 */
export async function authorizationCode(
  client: RegisteredClient,
  user: TestUser,
  options: AuthorizeOptions & { browser?: Browser } = {},
): Promise<IssuedCode> {
  const { verifier, challenge } = await pkce();
  const browser = options.browser ?? new Browser();
  let res = await browser.get(authorizeUrl(client, { challenge, ...options }));
  let html = await res.text();
  if (res.status === 200 && isLoginPage(html)) {
    res = await browser.submit(html, { username: user.username, password: user.password });
    html = await res.text();
  }
  if (res.status === 200 && isConsentPage(html)) {
    res = await browser.submit(html, { decision: "allow" });
    html = await res.text();
  }
  const redirect = redirectTarget(res);
  const code = redirect.searchParams.get("code");
  expect(code, redirect.toString()).toMatch(/^ac1\./);
  return { code: code as string, verifier, redirect, browser };
}

/** POST /token with grant_type=authorization_code, authenticated as `client`. */
export function redeemCode(
  client: RegisteredClient,
  code: string,
  verifier: string | undefined,
  redirectUri: string = REDIRECT_URI,
): Promise<Response> {
  return tokenRequest(client, {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
}

/** A request whose OAuth error (RFC 6749 §5.2) is `error`; returns the body. */
export async function expectTokenError(
  res: Response,
  error: string,
  status = 400,
): Promise<{ error: string; error_description: string }> {
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error, JSON.stringify(body)).toBe(error);
  expect(res.status).toBe(status);
  expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  return body;
}

/** GET /userinfo with a Bearer token. */
export function userinfo(accessToken: string): Promise<Response> {
  return call("/userinfo", { headers: { Authorization: `Bearer ${accessToken}` } });
}

/** The base64url SHA-256 left half of an access token (OIDC Core §3.1.3.6), computed here. */
export async function expectedAtHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken)),
  );
  return btoa(String.fromCharCode(...digest.slice(0, 16)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
