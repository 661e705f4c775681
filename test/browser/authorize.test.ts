import { describe, expect, it } from "vitest";
import {
  expectErrorPage,
  expectRedirectedError,
  isLoginPage,
  redirectTarget,
} from "../support/authorize";
import { authorizeUrl, Browser, pkce } from "../support/browser";
import {
  REDIRECT_URI,
  registerClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { call, formBody, ISSUER } from "../support/http";

/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1; OIDC Core §3.1.2.1).
 * It checks first what makes a redirect safe (the client and its redirect
 * URI); those errors are a page and never a redirect. Every later error goes
 * back to the redirect URI with the state and RFC 9207's `iss`.
 */

/** A valid request's parameters for `client`, with `changes` applied (undefined removes one). */
async function params(
  client: { client_id: string },
  changes: Record<string, string | undefined> = {},
): Promise<Record<string, string | undefined>> {
  const { challenge } = await pkce();
  return {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "openid profile",
    state: "xyz-state",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...changes,
  };
}

const get = (query: Record<string, string | undefined>) =>
  call(`/authorize?${formBody(query)}`, { redirect: "manual" });

const post = (form: Record<string, string | undefined>) =>
  call("/authorize", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: formBody(form),
    redirect: "manual",
  });

describe("/authorize accepts GET and POST (OIDC Core §3.1.2.1)", () => {
  it("shows the login form for a valid request sent as a query string", async () => {
    const client = await registerClient();
    const res = await get(await params(client));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it("shows the login form for the same request sent as a form body", async () => {
    const client = await registerClient();
    const res = await post(await params(client));
    expect(res.status).toBe(200);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it("completes a POSTed request: the code comes back with a 303 redirect", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const browser = new Browser();
    const res = await browser.request("/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody(await params(client)),
    });
    const done = await browser.submit(await res.text(), {
      username: user.username,
      password: user.password,
    });
    expect(done.status).toBe(303);
    expect(redirectTarget(done).searchParams.get("code")).toMatch(/^ac1\./);
  });

  it("refuses a POST whose body is not a form, on a page", async () => {
    const client = await registerClient();
    const res = await call("/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(await params(client)),
    });
    await expectErrorPage(res);
  });
});

describe("errors that make a redirect unsafe are shown on a page, never redirected (RFC 6749 §4.1.2.1)", () => {
  it("an unknown client_id is a 400 page without a Location header", async () => {
    const client = await registerClient();
    const html = await expectErrorPage(await get(await params(client, { client_id: "no-such" })));
    expect(html).toContain("not registered");
  });

  it("a missing client_id is a 400 page", async () => {
    const client = await registerClient();
    await expectErrorPage(await get(await params(client, { client_id: undefined })));
  });

  it("an unregistered redirect_uri is a 400 page, even on a POST", async () => {
    const client = await registerClient();
    const bad = { redirect_uri: "https://attacker.example/callback" };
    const html = await expectErrorPage(await get(await params(client, bad)));
    expect(html).not.toContain("attacker.example");
    await expectErrorPage(await post(await params(client, bad)));
  });

  it("a redirect_uri is matched exactly: another path, a query or a trailing slash is refused (RFC 9700 §2.1)", async () => {
    const client = await registerClient();
    for (const redirect_uri of [
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?next=/admin`,
      `${REDIRECT_URI}2`,
      REDIRECT_URI.replace("https:", "http:"),
      REDIRECT_URI.toUpperCase(),
    ]) {
      await expectErrorPage(await get(await params(client, { redirect_uri })));
    }
  });

  it("a missing redirect_uri is a 400 page", async () => {
    const client = await registerClient();
    await expectErrorPage(await get(await params(client, { redirect_uri: undefined })));
  });

  it("an unknown client is a page even when the rest of the request is wrong too", async () => {
    const client = await registerClient();
    const res = await get(
      await params(client, { client_id: "no-such", response_type: "token", scope: "admin" }),
    );
    await expectErrorPage(res);
  });

  it("a parameter given twice is a 400 page (RFC 6749 §3.1)", async () => {
    const client = await registerClient();
    const query = `${formBody(await params(client))}&state=second`;
    await expectErrorPage(await call(`/authorize?${query}`));
  });
});

describe("later errors go back to the redirect URI with state and iss (RFC 6749 §4.1.2.1, RFC 9207)", () => {
  it("response_type other than code is unsupported_response_type", async () => {
    const client = await registerClient();
    for (const response_type of ["token", "id_token", "code id_token"]) {
      const res = await get(await params(client, { response_type }));
      expectRedirectedError(res, "unsupported_response_type", { state: "xyz-state" });
    }
  });

  it("a missing response_type is invalid_request", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { response_type: undefined }));
    expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
  });

  it("a scope outside the client's registered scopes is invalid_scope", async () => {
    const client = await registerClient({ scope: "openid profile" });
    for (const scope of ["openid email", "openid api:write", "openid unheard-of"]) {
      const res = await get(await params(client, { scope }));
      expectRedirectedError(res, "invalid_scope", { state: "xyz-state" });
    }
  });

  it("does not echo a refused scope value into the redirect (it goes back to the client and is shown)", async () => {
    const client = await registerClient({ scope: "openid profile" });
    const pasted = "rt1.0123456789abcdef0123456789abcdef";
    const res = await get(await params(client, { scope: `openid ${pasted}` }));
    expectRedirectedError(res, "invalid_scope", { state: "xyz-state" });
    expect(res.headers.get("location")).not.toContain("0123456789abcdef");
  });

  it("lets only a native app (public client) move its loopback redirect to another port (RFC 8252 §7.3)", async () => {
    const loopback = "http://127.0.0.1/callback";
    const moved = "http://127.0.0.1:51004/callback";
    const web = await registerClient({ redirect_uris: [loopback] });
    await expectErrorPage(await get(await params(web, { redirect_uri: moved })));
    const native = await registerPublicClient({ redirect_uris: [loopback] });
    const res = await get(await params(native, { redirect_uri: moved }));
    expect(res.status).toBe(200);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it("code_challenge_method=plain is refused: S256 only (RFC 7636 §4.2, RFC 9700 §2.1.1)", async () => {
    const client = await registerClient();
    const res = await get(
      await params(client, {
        code_challenge: "a-plain-verifier-that-is-long-enough-0123456789",
        code_challenge_method: "plain",
      }),
    );
    expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
  });

  it("a code_challenge without a method is refused, since the default would be plain (RFC 7636 §4.3)", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { code_challenge_method: undefined }));
    expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
  });

  it("a code_challenge that is not a base64url SHA-256 is refused", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { code_challenge: "too-short" }));
    expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
  });

  it("a public client without PKCE is refused (RFC 9700 §2.1.1, OAuth 2.1 §4.1.1)", async () => {
    const client = await registerPublicClient();
    const res = await get(
      await params(client, { code_challenge: undefined, code_challenge_method: undefined }),
    );
    const url = expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
    expect(url.searchParams.get("error_description")).toMatch(/PKCE/);
  });

  it("a confidential client may leave PKCE out", async () => {
    const client = await registerClient();
    const res = await get(
      await params(client, { code_challenge: undefined, code_challenge_method: undefined }),
    );
    expect(res.status).toBe(200);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it("unknown or contradictory prompt values are invalid_request (OIDC Core §3.1.2.1)", async () => {
    const client = await registerClient();
    for (const prompt of ["none login", "select_account"]) {
      expectRedirectedError(await get(await params(client, { prompt })), "invalid_request", {
        state: "xyz-state",
      });
    }
  });

  it("a max_age that is not a whole number of seconds is invalid_request", async () => {
    const client = await registerClient();
    for (const max_age of ["-1", "1.5", "soon"]) {
      expectRedirectedError(await get(await params(client, { max_age })), "invalid_request", {
        state: "xyz-state",
      });
    }
  });

  it("a client not registered for the authorization code grant is unauthorized_client", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], scope: "api:read" });
    const res = await get(await params(client, { scope: "api:read" }));
    expectRedirectedError(res, "unauthorized_client", { state: "xyz-state" });
  });

  it("request objects are request_not_supported, request_uri is request_uri_not_supported", async () => {
    const client = await registerClient();
    expectRedirectedError(
      await get(await params(client, { request: "eyJhbGciOiJub25lIn0.e30." })),
      "request_not_supported",
      { state: "xyz-state" },
    );
    expectRedirectedError(
      await get(await params(client, { request_uri: "urn:example:request" })),
      "request_uri_not_supported",
      { state: "xyz-state" },
    );
  });

  it("a response_mode other than query and form_post is invalid_request, answered in the query", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { response_mode: "fragment" }));
    expectRedirectedError(res, "invalid_request", { state: "xyz-state" });
  });

  it("an error without a state in the request carries no state", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { state: undefined, response_type: "token" }));
    expectRedirectedError(res, "unsupported_response_type");
  });

  it("an error on a POSTed request is redirected with 303, so the browser follows with GET", async () => {
    const client = await registerClient();
    const res = await post(await params(client, { response_type: "token" }));
    expect(res.status).toBe(303);
    expectRedirectedError(res, "unsupported_response_type", { state: "xyz-state" });
  });

  it("prompt=none without a session is login_required (OIDC Core §3.1.2.6)", async () => {
    const client = await registerClient();
    const res = await get(await params(client, { prompt: "none" }));
    expectRedirectedError(res, "login_required", { state: "xyz-state" });
  });
});

describe("the authorization response (RFC 6749 §4.1.2, RFC 9207)", () => {
  it("carries the code, the state unchanged, and iss", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const state = "a state with spaces & symbols/=?";
    const browser = new Browser();
    const { challenge } = await pkce();
    const page = await browser.get(authorizeUrl(client, { challenge, state }));
    const res = await browser.submit(await page.text(), {
      username: user.username,
      password: user.password,
    });
    const url = redirectTarget(res);
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
    expect(url.searchParams.get("code")).toMatch(/^ac1\.[0-9a-f]{64}\./);
    expect(url.searchParams.get("state")).toBe(state);
    expect(url.searchParams.get("iss")).toBe(ISSUER);
  });

  it("keeps the query component of a registered redirect URI (RFC 6749 §3.1.2)", async () => {
    const redirect = "https://app.example.test/cb?tenant=7";
    const client = await registerClient({ consent: "implicit", redirect_uris: [redirect] });
    const user = await registerUser();
    const browser = new Browser();
    const { challenge } = await pkce();
    const page = await browser.get(authorizeUrl(client, { challenge, redirectUri: redirect }));
    const res = await browser.submit(await page.text(), {
      username: user.username,
      password: user.password,
    });
    const url = redirectTarget(res);
    expect(url.searchParams.get("tenant")).toBe("7");
    expect(url.searchParams.get("code")).toBeTruthy();
    expect(url.searchParams.get("iss")).toBe(ISSUER);
  });
});
