import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { freshness, METADATA_DOCUMENT_LIMITS } from "../../src/clients/metadata-document";
import { assertionParams, clientKey, signWithKey } from "../support/assertions";
import {
  expectErrorPage,
  expectTokenError,
  isConsentPage,
  isLoginPage,
} from "../support/authorize";
import { authorizeUrl, Browser, pkce } from "../support/browser";
import { REDIRECT_URI, registerUser } from "../support/fixtures";
import { DESCRIPTION_CHARSET, fetchWith, formBody, ISSUER } from "../support/http";

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
 * a client whose client_id is an https URL, registered nowhere, described by
 * the JSON document at that URL. The Worker's fetches go to a stand-in host
 * (test/fixtures/metadata-host, bound as CLIENT_METADATA_FETCHER): tests
 * publish documents there and count how often each was fetched. The suite's
 * env has CLIENT_METADATA_DOCUMENTS=off, as wrangler.toml ships; these tests
 * turn it on per request.
 */

const ON = { CLIENT_METADATA_DOCUMENTS: "on" };
const host = (env as unknown as { CLIENT_METADATA_FETCHER: Fetcher }).CLIENT_METADATA_FETCHER;

let documents = 0;
/** A Client Identifier URL of this test's own (the stand-in's state is shared). */
const newClientId = () => `https://client${++documents}.example.test/oauth/client.json`;

async function publish(
  url: string,
  body: unknown,
  options: { status?: number; headers?: Record<string, string> } = {},
): Promise<void> {
  const res = await host.fetch("https://metadata-host.test/__publish", {
    method: "POST",
    body: JSON.stringify({
      url,
      status: options.status ?? 200,
      headers: options.headers ?? { "Content-Type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  });
  expect(res.status).toBe(204);
}

async function hits(url: string): Promise<number> {
  const res = await host.fetch(`https://metadata-host.test/__hits?url=${encodeURIComponent(url)}`);
  return ((await res.json()) as { hits: number }).hits;
}

const publicDocument = (clientId: string, extra: Record<string, unknown> = {}) => ({
  client_id: clientId,
  client_name: "Document App",
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token"],
  scope: "openid profile offline_access",
  ...extra,
});

/** A published public client, ready for the code flow. */
async function documentClient(extra: Record<string, unknown> = {}): Promise<string> {
  const clientId = newClientId();
  await publish(clientId, publicDocument(clientId, extra));
  return clientId;
}

const client = (clientId: string) => ({ client_id: clientId, redirect_uris: [REDIRECT_URI] });

const token = (params: Record<string, string | undefined>) =>
  fetchWith(ON, "/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: formBody(params),
  });

/** GET /authorize for `clientId`, with metadata documents on; returns the response. */
async function authorize(clientId: string, browser = new Browser({ env: ON })) {
  const { challenge } = await pkce();
  return browser.get(authorizeUrl(client(clientId), { scope: "openid", challenge }));
}

/** The page /authorize shows for a document that cannot be used: never a redirect. */
async function expectRefusal(clientId: string, reason: RegExp): Promise<void> {
  const html = await expectErrorPage(await authorize(clientId));
  expect(html).toMatch(/client metadata document cannot be used/);
  expect(html).toMatch(reason);
}

describe("a metadata-document client in the code flow", () => {
  it("signs in, is asked for consent with its document's host shown, and redeems the code with PKCE and no secret", async () => {
    const clientId = await documentClient({ client_name: "Totally The Bank" });
    const user = await registerUser();
    const browser = new Browser({ env: ON });
    const { verifier, challenge } = await pkce();
    let res = await browser.get(
      authorizeUrl(client(clientId), { scope: "openid offline_access", challenge }),
    );
    let html = await res.text();
    expect(isLoginPage(html), html.slice(0, 300)).toBe(true);
    res = await browser.submit(html, { username: user.username, password: user.password });
    html = await res.text();
    // Consent is always asked: a document is no administrator's vouching.
    expect(isConsentPage(html)).toBe(true);
    expect(html).toContain("describes itself in a document at");
    expect(html).toContain(`<strong>${new URL(clientId).host}</strong>`);
    expect(html).toContain(`<strong>${new URL(REDIRECT_URI).host}</strong>`);
    res = await browser.submit(html, { decision: "allow" });
    const redirect = new URL(res.headers.get("location") as string);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT_URI);
    const code = redirect.searchParams.get("code") as string;

    const tokens = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: clientId,
    });
    expect(tokens.status, await tokens.clone().text()).toBe(200);
    const body = (await tokens.json()) as { access_token: string; refresh_token: string };
    expect(decodeJwt(body.access_token).client_id).toBe(clientId);

    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: body.refresh_token,
      client_id: clientId,
    });
    expect(refreshed.status, await refreshed.clone().text()).toBe(200);
  });

  it("must send a PKCE challenge, as every public client must (the error goes back to its listed redirect URI)", async () => {
    const clientId = await documentClient();
    const res = await new Browser({ env: ON }).get(
      authorizeUrl(client(clientId), { scope: "openid" }),
    );
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location") as string);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get("error")).toBe("invalid_request");
  });

  it("is refused a redirect_uri its document does not list, on a page", async () => {
    const clientId = await documentClient();
    const { challenge } = await pkce();
    const res = await new Browser({ env: ON }).get(
      authorizeUrl(client(clientId), {
        scope: "openid",
        challenge,
        redirectUri: "https://evil.example.test/callback",
      }),
    );
    await expectErrorPage(res);
  });
});

describe("a document that cannot be used is refused at /authorize on a page, never redirected", () => {
  it("404", async () => {
    const clientId = newClientId();
    await publish(clientId, "gone", { status: 404, headers: { "Content-Type": "text/plain" } });
    await expectRefusal(clientId, /HTTP 404/);
  });

  it("a document never published (the host's 404)", async () => {
    await expectRefusal(newClientId(), /HTTP 404/);
  });

  it("a content type other than JSON", async () => {
    const clientId = newClientId();
    await publish(clientId, publicDocument(clientId), {
      headers: { "Content-Type": "text/html" },
    });
    await expectRefusal(clientId, /not served as application\/json/);
  });

  it("an application/<x>+json content type is accepted", async () => {
    const clientId = newClientId();
    await publish(clientId, publicDocument(clientId), {
      headers: { "Content-Type": "application/client-metadata+json; charset=utf-8" },
    });
    const res = await authorize(clientId);
    expect(isLoginPage(await res.text())).toBe(true);
  });

  it(`larger than ${METADATA_DOCUMENT_LIMITS.maxBytes} bytes`, async () => {
    const clientId = newClientId();
    await publish(clientId, publicDocument(clientId, { padding: "x".repeat(6000) }));
    await expectRefusal(clientId, /larger than 5120 bytes/);
  });

  it("a client_id that is not exactly the URL (same document, another port spelling)", async () => {
    const clientId = newClientId();
    const other = clientId.replace(".test/", ".test:443/");
    await publish(clientId, publicDocument(other));
    await expectRefusal(clientId, /client_id is not exactly the URL/);
  });

  it("a redirect, which is not followed", async () => {
    const clientId = newClientId();
    const target = newClientId();
    await publish(target, publicDocument(clientId));
    await publish(clientId, "", { status: 302, headers: { Location: target } });
    await expectRefusal(clientId, /redirects \(HTTP 302\)/);
    expect(await hits(target)).toBe(0);
  });

  it("not JSON, or not an object", async () => {
    const a = newClientId();
    await publish(a, "{not json");
    await expectRefusal(a, /not valid JSON/);
    const b = newClientId();
    await publish(b, "[1]");
    await expectRefusal(b, /not a JSON object/);
  });

  it("a shared secret: a client_secret, or a secret-based method", async () => {
    const a = newClientId();
    await publish(a, publicDocument(a, { client_secret: "s3cret-s3cret-s3cret" }));
    await expectRefusal(a, /client_secret/);
    for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt"]) {
      const b = newClientId();
      await publish(b, publicDocument(b, { token_endpoint_auth_method: method }));
      await expectRefusal(b, /must be none or private_key_jwt/);
    }
  });

  it("no redirect_uris", async () => {
    const clientId = newClientId();
    const { redirect_uris: _none, ...document } = publicDocument(clientId);
    await publish(clientId, document);
    await expectRefusal(clientId, /no redirect_uris/);
  });

  it("a client_credentials grant, and administrator-only settings", async () => {
    const a = newClientId();
    await publish(
      a,
      publicDocument(a, { grant_types: ["authorization_code", "client_credentials"] }),
    );
    await expectRefusal(a, /client_credentials/);
    // Settings the draft's registry does not define for clients are ignored, not obeyed.
    const b = newClientId();
    await publish(b, publicDocument(b, { consent: "implicit", resource_server: true }));
    const user = await registerUser();
    const browser = new Browser({ env: ON });
    const html = await (await authorize(b, browser)).text();
    const consent = await browser.submit(html, {
      username: user.username,
      password: user.password,
    });
    expect(isConsentPage(await consent.text())).toBe(true);
  });

  it("a private key in jwks", async () => {
    const clientId = newClientId();
    const key = await clientKey("ES256");
    const { d: _d, ...publicJwk } = key.publicJwk;
    await publish(
      clientId,
      publicDocument(clientId, {
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [{ ...publicJwk, d: "AAAA" }] },
      }),
    );
    await expectRefusal(clientId, /private key material/);
  });

  it("a Client Identifier URL the draft's section 2 rules out, without fetching it", async () => {
    const bad = [
      "https://client.example.test/", // no path beyond /
      "https://client.example.test", // no path
      "https://client.example.test/app.json#x", // fragment
      "https://client.example.test/app.json?v=1", // query
      "https://user:pw@client.example.test/app.json", // userinfo
      "https://client.example.test/a/../app.json", // dot segment
      "https://127.0.0.1/app.json", // loopback
      "https://localhost/app.json",
      "https://10.0.0.8/app.json", // private address literal
      "https://[::1]/app.json",
    ];
    for (const clientId of bad) {
      const html = await expectErrorPage(await authorize(clientId));
      expect(html, clientId).toMatch(/client metadata document cannot be used|not registered/);
      expect(await hits(clientId)).toBe(0);
    }
  });

  it("the token endpoint refuses such a client with invalid_client and a clean description", async () => {
    const clientId = newClientId();
    await publish(clientId, "gone", { status: 404, headers: { "Content-Type": "text/plain" } });
    const body = await expectTokenError(
      await token({ grant_type: "authorization_code", code: "x", client_id: clientId }),
      "invalid_client",
    );
    expect(body.error_description).toMatch(DESCRIPTION_CHARSET);
  });
});

describe("caching documents per isolate", () => {
  it("a second authorization within the document's lifetime does not fetch it again", async () => {
    const clientId = await documentClient();
    await authorize(clientId);
    await authorize(clientId);
    expect(await hits(clientId)).toBe(1);
  });

  it("no-store is held for the 60-second floor, not refetched on every request", async () => {
    const clientId = newClientId();
    await publish(clientId, publicDocument(clientId), {
      headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    });
    await authorize(clientId);
    await authorize(clientId);
    expect(await hits(clientId)).toBe(1);
  });

  it("an error or an invalid document is never cached: fixed, it works at once", async () => {
    const clientId = newClientId();
    await publish(clientId, publicDocument("https://someone-else.example.test/app.json"));
    await expectRefusal(clientId, /client_id is not exactly/);
    await publish(clientId, publicDocument(clientId));
    expect(isLoginPage(await (await authorize(clientId)).text())).toBe(true);
    expect(await hits(clientId)).toBe(2);
  });

  it("the lifetime follows Cache-Control max-age or Expires, between 60 seconds and a day", () => {
    const at = Date.parse("2026-12-01T00:00:00Z");
    const h = (headers: Record<string, string>) => freshness(new Headers(headers), at);
    expect(h({})).toBe(60);
    expect(h({ "Cache-Control": "public, max-age=3600" })).toBe(3600);
    expect(h({ "Cache-Control": "max-age=5" })).toBe(60);
    expect(h({ "Cache-Control": "max-age=999999" })).toBe(86_400);
    expect(h({ "Cache-Control": "no-cache, max-age=3600" })).toBe(60);
    expect(h({ Expires: new Date(at + 7200_000).toUTCString() })).toBe(7200);
  });
});

describe("what a metadata-document client may not do", () => {
  /** A confidential document client (private_key_jwt, keys by value) and its key. */
  async function keyDocumentClient() {
    const clientId = newClientId();
    const key = await clientKey("ES256");
    await publish(
      clientId,
      publicDocument(clientId, {
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [key.publicJwk] },
      }),
    );
    return { clientId, key };
  }

  it("authenticates with private_key_jwt, yet cannot use client_credentials", async () => {
    const { clientId, key } = await keyDocumentClient();
    await expectTokenError(
      await token({
        grant_type: "client_credentials",
        ...assertionParams(await signWithKey(key, clientId)),
      }),
      "unauthorized_client",
    );
  });

  it("cannot introspect tokens (no document client is a resource server)", async () => {
    const { clientId, key } = await keyDocumentClient();
    const res = await fetchWith(ON, "/introspect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({
        token: "anything",
        ...assertionParams(await signWithKey(key, clientId, { aud: `${ISSUER}/introspect` })),
      }),
    });
    const body = await expectTokenError(res, "invalid_client", 401);
    expect(body.error_description).toContain("cannot use introspection");
    // Refused before the document was fetched.
    expect(await hits(clientId)).toBe(0);
  });
});

describe("CLIENT_METADATA_DOCUMENTS", () => {
  it("off (the default): a URL client_id is an unknown client, nothing is fetched, discovery does not offer it", async () => {
    const clientId = await documentClient();
    const { challenge } = await pkce();
    const html = await expectErrorPage(
      await new Browser().get(authorizeUrl(client(clientId), { scope: "openid", challenge })),
    );
    expect(html).toContain("not registered");
    expect(await hits(clientId)).toBe(0);
    const off = (await (
      await fetchWith({}, "/.well-known/oauth-authorization-server")
    ).json()) as Record<string, unknown>;
    expect(off.client_id_metadata_document_supported).toBeUndefined();
  });

  it("on: discovery says client_id_metadata_document_supported", async () => {
    const on = (await (
      await fetchWith(ON, "/.well-known/oauth-authorization-server")
    ).json()) as Record<string, unknown>;
    expect(on.client_id_metadata_document_supported).toBe(true);
  });
});
