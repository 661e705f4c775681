import { expect } from "vitest";
import { REDIRECT_URI, type RegisteredClient, type TestUser, tokenRequest } from "./fixtures";
import { call, fetchWith, ISSUER } from "./http";

/**
 * A small browser: keeps cookies, follows nothing by itself, reads forms out
 * of the real HTML pages and submits them as a person would.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  /** `overrides`: env values for this browser's requests (e.g. RATE_LIMITS), and its headers. */
  constructor(
    private readonly overrides?: {
      env?: Partial<Cloudflare.Env>;
      headers?: Record<string, string>;
    },
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size)
      headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    for (const [name, value] of Object.entries(this.overrides?.headers ?? {}))
      headers.set(name, value);
    const res = this.overrides?.env
      ? await fetchWith(this.overrides.env, path, { ...init, headers, redirect: "manual" })
      : await call(path, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (!name) continue;
      const expired = attributes.some((a) => /max-age=0/i.test(a.trim()));
      if (expired) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join("="));
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  /** Submits the page's form with its hidden fields plus `fields` (as a same-origin browser does). */
  async submit(html: string, fields: Record<string, string>): Promise<Response> {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    expect(action, "the page has a form").toBeTruthy();
    const body = new URLSearchParams(hiddenFields(html));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return this.request(action as string, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ISSUER },
      body: body.toString(),
    });
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1] as string] = unescapeHtml(match[2] as string);
  }
  return fields;
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64url = (b: Uint8Array) =>
    btoa(String.fromCharCode(...b))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const verifier = b64url(bytes);
  const challenge = b64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  return { verifier, challenge };
}

export interface AuthorizeOptions {
  scope?: string;
  state?: string;
  nonce?: string;
  challenge?: string;
  prompt?: string;
  redirectUri?: string;
  extra?: Record<string, string>;
  /** RFC 8707 §2.1: one `resource` parameter each. */
  resources?: string[];
}

export function authorizeUrl(client: RegisteredClient, options: AuthorizeOptions = {}): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    scope: options.scope ?? "openid profile offline_access",
    state: options.state ?? "state-123",
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(options.challenge
      ? { code_challenge: options.challenge, code_challenge_method: "S256" }
      : {}),
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...options.extra,
  });
  for (const resource of options.resources ?? []) params.append("resource", resource);
  return `/authorize?${params}`;
}

/**
 * Drives the pages: authorize → login form → (consent form) → redirect back.
 * Returns the redirect to the client, as a URL.
 */
export async function signInAndAuthorize(
  browser: Browser,
  client: RegisteredClient,
  user: TestUser,
  options: AuthorizeOptions = {},
): Promise<URL> {
  let res = await browser.get(authorizeUrl(client, options));
  let html = await res.text();
  if (res.status === 200 && html.includes('name="password"')) {
    res = await browser.submit(html, { username: user.username, password: user.password });
    html = await res.text();
  }
  if (res.status === 200 && html.includes('name="decision"')) {
    res = await browser.submit(html, { decision: "allow" });
    html = await res.text();
  }
  expect([302, 303], html.slice(0, 500)).toContain(res.status);
  return new URL(res.headers.get("location") as string);
}

/** The whole authorization code flow with PKCE, ending in the token response. */
export async function codeFlow(
  client: RegisteredClient,
  user: TestUser,
  options: AuthorizeOptions & { browser?: Browser } = {},
): Promise<TokenSet> {
  const { verifier, challenge } = await pkce();
  const browser = options.browser ?? new Browser();
  const redirect = await signInAndAuthorize(browser, client, user, { ...options, challenge });
  const code = redirect.searchParams.get("code");
  expect(code, redirect.toString()).toBeTruthy();
  const res = await tokenRequest(client, {
    grant_type: "authorization_code",
    code: code as string,
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    code_verifier: verifier,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as TokenSet;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}
