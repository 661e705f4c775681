import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { DpopKey, dpopTokens } from "../support/dpop";
import {
  type RegisteredClient,
  registerClient,
  revokeRequest,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call, DESCRIPTION_CHARSET, ISSUER, json } from "../support/http";
import { CERTIFICATES, cfWith, mtlsPost, registerTlsClient } from "../support/mtls";
import { nowSeconds, signedWithServerKey, signedWithStrangerKey } from "../support/revocation";

/**
 * A second Worker, a protected API built on ./resource-server
 * (test/fixtures/protected-api), runs beside ours in workerd and reaches our
 * JWKS and introspection through a service binding. These tests are its
 * clients: they get real tokens from us and call the API.
 */

const API = "https://api.example.test";
const RESOURCE_METADATA = `${API}/.well-known/oauth-protected-resource`;

const apiCall = (path: string, init: RequestInit = {}): Promise<Response> =>
  (env as unknown as { PROTECTED_API: Fetcher }).PROTECTED_API.fetch(
    new Request(new URL(path, API), init),
  );
const withBearer = (path: string, token: string, init: RequestInit = {}) =>
  apiCall(path, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });

async function serviceClient(scope = "api:read api:write"): Promise<RegisteredClient> {
  return registerClient({ grant_types: ["client_credentials"], redirect_uris: [], scope });
}

async function accessToken(client: RegisteredClient, scope?: string): Promise<string> {
  const res = await tokenRequest(client, {
    grant_type: "client_credentials",
    ...(scope ? { scope } : {}),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ access_token: string }>(res)).access_token;
}

/** The claims of a real token, to re-sign with changes under our own key. */
async function realClaims(): Promise<Record<string, unknown>> {
  return decodeJwt(await accessToken(await serviceClient())) as Record<string, unknown>;
}

/** RFC 7235 §4.1 challenge parameters of one scheme in a WWW-Authenticate value. */
function challenge(res: Response, scheme: "Bearer" | "DPoP"): Record<string, string> | undefined {
  const header = res.headers.get("WWW-Authenticate") ?? "";
  const at = header.search(new RegExp(`(^|, )${scheme}( |$|,)`));
  if (at === -1) return undefined;
  const rest = header.slice(at).replace(/^, /, "").slice(scheme.length);
  const params: Record<string, string> = {};
  for (const m of rest.matchAll(/^[ ,]*([a-z_]+)="([^"]*)"/gm))
    params[m[1] as string] = m[2] as string;
  // Parameters until the next scheme.
  const own = rest.split(/, (?=Bearer|DPoP)/)[0] ?? "";
  for (const m of own.matchAll(/([a-z_]+)="([^"]*)"/g)) params[m[1] as string] = m[2] as string;
  return params;
}

async function expectInvalidToken(res: Response, scheme: "Bearer" | "DPoP" = "Bearer") {
  expect(res.status).toBe(401);
  const params = challenge(res, scheme);
  expect(params?.error, res.headers.get("WWW-Authenticate") ?? "").toBe("invalid_token");
  expect(params?.error_description).toMatch(DESCRIPTION_CHARSET);
  expect(params?.resource_metadata).toBe(RESOURCE_METADATA);
  const body = await json(res);
  expect(body.error).toBe("invalid_token");
  return params as Record<string, string>;
}

describe("a protected API on Workers (./resource-server)", () => {
  describe("valid tokens", () => {
    it("accepts a bearer token from us, through the Hono middleware and the plain fetch handler", async () => {
      const client = await serviceClient();
      const token = await accessToken(client, "api:read");

      const viaHono = await withBearer("/hono/read", token);
      expect(viaHono.status, await viaHono.clone().text()).toBe(200);
      expect(await json(viaHono)).toStrictEqual({ sub: client.client_id, binding: "none" });

      const viaFetch = await withBearer("/plain/read", token);
      expect(viaFetch.status).toBe(200);
      expect(await json(viaFetch)).toStrictEqual({ sub: client.client_id, scopes: ["api:read"] });
    });

    it("accepts the scheme name in any case (RFC 9110 §11.1)", async () => {
      const token = await accessToken(await serviceClient());
      const res = await apiCall("/hono/read", { headers: { Authorization: `bEaReR ${token}` } });
      expect(res.status).toBe(200);
    });
  });

  describe("RFC 6750 §3: refusals", () => {
    it("answers a request without a token with a bare challenge: 401, no error code", async () => {
      const res = await apiCall("/hono/read");
      expect(res.status).toBe(401);
      const bearer = challenge(res, "Bearer");
      expect(bearer).toStrictEqual({ realm: "api", resource_metadata: RESOURCE_METADATA });
      // RFC 9449 §7.1: DPoP is offered too, with the algs accepted.
      expect(challenge(res, "DPoP")?.algs).toContain("ES256");
      expect(challenge(res, "DPoP")?.error).toBeUndefined();
    });

    it("refuses a token without a needed scope: 403 insufficient_scope with the scope needed", async () => {
      const token = await accessToken(await serviceClient(), "api:read");
      const res = await withBearer("/hono/write", token, { method: "POST" });
      expect(res.status).toBe(403);
      const params = challenge(res, "Bearer");
      expect(params?.error).toBe("insufficient_scope");
      expect(params?.scope).toBe("api:write");
      expect(params?.resource_metadata).toBe(RESOURCE_METADATA);
      expect(params?.error_description).toMatch(DESCRIPTION_CHARSET);

      const writer = await accessToken(await serviceClient(), "api:read api:write");
      expect((await withBearer("/hono/write", writer, { method: "POST" })).status).toBe(200);
    });

    it("refuses a malformed Authorization header with 400 invalid_request", async () => {
      const res = await apiCall("/hono/read", { headers: { Authorization: "Bearer a b" } });
      expect(res.status).toBe(400);
      expect(challenge(res, "Bearer")?.error).toBe("invalid_request");
    });

    it("refuses a token for another audience (RFC 9068 §4)", async () => {
      const token = await accessToken(await serviceClient());
      const params = await expectInvalidToken(await withBearer("/other-audience/read", token));
      expect(params.error_description).toContain("not meant for this resource");
    });

    it("refuses a token from another issuer, signed with our key", async () => {
      const token = await signedWithServerKey({
        ...(await realClaims()),
        iss: "https://evil.example.test",
      });
      const params = await expectInvalidToken(await withBearer("/hono/read", token));
      expect(params.error_description).toContain("another authorization server");
    });

    it("refuses a token whose typ is not at+jwt (an ID token's JWT, say)", async () => {
      const token = await signedWithServerKey(await realClaims(), { typ: "JWT" });
      const params = await expectInvalidToken(await withBearer("/hono/read", token));
      expect(params.error_description).toContain("at+jwt");
    });

    it("refuses an expired token beyond the leeway, accepts one within it", async () => {
      const claims = await realClaims();
      const expired = await signedWithServerKey({
        ...claims,
        iat: nowSeconds() - 600,
        exp: nowSeconds() - 120,
      });
      const params = await expectInvalidToken(await withBearer("/hono/read", expired));
      expect(params.error_description).toContain("expired");

      const withinLeeway = await signedWithServerKey({ ...claims, exp: nowSeconds() - 5 });
      expect((await withBearer("/hono/read", withinLeeway)).status).toBe(200);
    });

    it("refuses a tampered token (a claim changed after signing)", async () => {
      const token = await accessToken(await serviceClient(), "api:read");
      const [header, , signature] = token.split(".");
      const claims = { ...decodeJwt(token), scope: "api:read api:write" };
      const payload = btoa(JSON.stringify(claims))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
      const res = await withBearer("/hono/write", `${header}.${payload}.${signature}`, {
        method: "POST",
      });
      const params = await expectInvalidToken(res);
      expect(params.error_description).toContain("signature");
    });

    it("never puts the token into the error", async () => {
      const token = await signedWithServerKey({
        ...(await realClaims()),
        iss: "https://evil.example.test",
      });
      const res = await withBearer("/hono/read", token);
      const text = `${res.headers.get("WWW-Authenticate")} ${await res.text()}`;
      expect(text).not.toContain(token.split(".")[1] as string);
    });
  });

  describe("keys: an unknown kid rotating in, and a floor on refetches", () => {
    it("refetches the JWKS once for a kid it does not know, then accepts tokens signed by it", async () => {
      const name = crypto.randomUUID();
      const read = (token: string) => withBearer(`/fresh/${name}/read?cooldown=0`, token);
      const calls = async () => json(await apiCall(`/calls/fresh:${name}`));
      const client = await serviceClient();
      const before = await accessToken(client);
      expect((await read(before)).status).toBe(200);
      expect(await calls()).toMatchObject({ jwks: 1 });
      const known = (await json<{ keys: { kid: string }[] }>(await call("/jwks"))).keys.map(
        (k) => k.kid,
      );

      // Our keys rotate until tokens carry a kid the API's cached set lacks
      // (the next key is published ahead, so one rotation may not be enough).
      let after = before;
      for (let i = 0; i < 3 && known.includes(decodeProtectedHeader(after).kid as string); i++) {
        expect((await adminCall("POST", "/admin/keys/rotate")).status).toBe(200);
        after = await accessToken(client);
      }
      expect(known).not.toContain(decodeProtectedHeader(after).kid);

      expect((await read(after)).status).toBe(200);
      expect(await calls()).toMatchObject({ jwks: 2 });
      // Known kids, old and new, come from the cache: no fetch.
      expect((await read(before)).status).toBe(200);
      expect((await read(after)).status).toBe(200);
      expect(await calls()).toMatchObject({ jwks: 2 });
    });

    it("does not refetch for every forged kid: at most one fetch per cooldown", async () => {
      const name = crypto.randomUUID();
      const claims = await realClaims();
      expect(
        (await withBearer(`/fresh/${name}/read`, await signedWithServerKey(claims))).status,
      ).toBe(200);
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) =>
          withBearer(`/fresh/${name}/read`, await signedWithStrangerKey(claims, `forged-${i}`)),
        ),
      );
      for (const res of results) {
        const params = await expectInvalidToken(res);
        expect(params.error_description).toContain("key this resource does not know");
      }
      // One fetch at first use; the forged kids fall within the 30 s cooldown.
      expect(await json(await apiCall(`/calls/fresh:${name}`))).toMatchObject({ jwks: 1 });
    });
  });

  it("answers 503 temporarily_unavailable, not invalid_token, when our keys cannot be read", async () => {
    const token = await accessToken(await serviceClient());
    const res = await withBearer("/broken-jwks/read", token);
    expect(res.status).toBe(503);
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
    expect(await json(res)).toMatchObject({ error: "temporarily_unavailable" });
  });

  describe("DPoP-bound tokens (RFC 9449 §7)", () => {
    async function boundToken() {
      const client = await registerClient({
        grant_types: ["client_credentials"],
        redirect_uris: [],
        scope: "api:read",
      });
      const key = await DpopKey.generate();
      const tokens = await dpopTokens(client, key, { grant_type: "client_credentials" });
      expect((decodeJwt(tokens.access_token).cnf as { jkt: string }).jkt).toBe(key.jkt);
      return { key, token: tokens.access_token };
    }
    const READ_URL = `${API}/hono/read`;
    const withProof = (token: string, proof: string, path = "/hono/read") =>
      apiCall(path, { headers: { Authorization: `DPoP ${token}`, DPoP: proof } });

    it("accepts the token with a good proof by the bound key", async () => {
      const { key, token } = await boundToken();
      const res = await withProof(token, await key.proof("GET", READ_URL, { accessToken: token }));
      expect(res.status, await res.clone().text()).toBe(200);
      expect((await json(res)).binding).toBe("dpop");
    });

    it("ignores the query of the request URL in htu (§4.3 item 9)", async () => {
      const { key, token } = await boundToken();
      const proof = await key.proof("GET", READ_URL, { accessToken: token });
      expect((await withProof(token, proof, "/hono/read?page=2")).status).toBe(200);
    });

    it("refuses it without a proof, and as a Bearer token, with a DPoP challenge", async () => {
      const { token } = await boundToken();
      const noProof = await apiCall("/hono/read", { headers: { Authorization: `DPoP ${token}` } });
      const params = await expectInvalidToken(noProof, "DPoP");
      expect(params.algs).toContain("ES256");
      await expectInvalidToken(await withBearer("/hono/read", token), "DPoP");
    });

    it("refuses a proof by another key, for another URL or method, or without ath", async () => {
      const { key, token } = await boundToken();
      const other = await DpopKey.generate();
      const refusals = [
        await other.proof("GET", READ_URL, { accessToken: token }),
        await key.proof("GET", `${API}/plain/read`, { accessToken: token }),
        await key.proof("POST", READ_URL, { accessToken: token }),
        await key.proof("GET", READ_URL),
        await key.proof("GET", READ_URL, { accessToken: token, iat: nowSeconds() - 600 }),
      ];
      for (const proof of refusals) await expectInvalidToken(await withProof(token, proof), "DPoP");
    });

    it("refuses a replayed proof, also when sent many times in parallel: exactly one passes", async () => {
      const { key, token } = await boundToken();
      const proof = await key.proof("GET", READ_URL, { accessToken: token });
      const results = await Promise.all(Array.from({ length: 8 }, () => withProof(token, proof)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      for (const res of results.filter((r) => r.status !== 200)) {
        const params = await expectInvalidToken(res, "DPoP");
        expect(params.error_description).toContain("used before");
      }
    });

    it("refuses an unbound token presented with the DPoP scheme", async () => {
      const key = await DpopKey.generate();
      const token = await accessToken(await serviceClient());
      const proof = await key.proof("GET", READ_URL, { accessToken: token });
      await expectInvalidToken(await withProof(token, proof), "DPoP");
    });
  });

  describe("certificate-bound tokens (RFC 8705 §3)", () => {
    async function certificateBoundToken(): Promise<string> {
      const client = await registerTlsClient();
      const res = await mtlsPost(
        "/token",
        { grant_type: "client_credentials", client_id: client.client_id },
        CERTIFICATES.payments,
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const token = (await json<{ access_token: string }>(res)).access_token;
      expect(decodeJwt(token).cnf).toHaveProperty("x5t#S256");
      return token;
    }

    it("accepts the token over TLS with the certificate it is bound to", async () => {
      const token = await certificateBoundToken();
      const res = await withBearer("/hono/read", token, { cf: cfWith(CERTIFICATES.payments) });
      expect(res.status, await res.clone().text()).toBe(200);
      expect((await json(res)).binding).toBe("mtls");
    });

    it("refuses it with another certificate, or none", async () => {
      const token = await certificateBoundToken();
      for (const cf of [cfWith(CERTIFICATES.payments2), cfWith(undefined), undefined]) {
        const res = await withBearer("/hono/read", token, cf ? { cf } : {});
        const params = await expectInvalidToken(res);
        expect(params.error_description).toContain("client certificate");
      }
    });
  });

  it("needs both the key and the certificate for a token bound to both; a certificate refusal spends no proof", async () => {
    const client = await registerTlsClient();
    const key = await DpopKey.generate();
    const tokenRequestWith = async (nonce?: string) =>
      mtlsPost(
        "/token",
        { grant_type: "client_credentials", client_id: client.client_id },
        CERTIFICATES.payments,
        {
          headers: { DPoP: await key.proof("POST", `${ISSUER}/token`, nonce ? { nonce } : {}) },
        },
      );
    const first = await tokenRequestWith();
    const nonce = first.headers.get("DPoP-Nonce") ?? undefined;
    const res = first.status === 200 ? first : await tokenRequestWith(nonce);
    expect(res.status, await res.clone().text()).toBe(200);
    const token = (await json<{ access_token: string }>(res)).access_token;
    expect(decodeJwt(token).cnf).toStrictEqual({ jkt: key.jkt, "x5t#S256": expect.any(String) });

    const proof = await key.proof("GET", `${API}/hono/read`, { accessToken: token });
    const headers = { Authorization: `DPoP ${token}`, DPoP: proof };
    const wrongCertificate = await apiCall("/hono/read", {
      headers,
      cf: cfWith(CERTIFICATES.payments2),
    });
    expect((await expectInvalidToken(wrongCertificate, "DPoP")).error_description).toContain(
      "client certificate",
    );
    // The same proof, now with the right certificate: it was not spent.
    const right = await apiCall("/hono/read", { headers, cf: cfWith(CERTIFICATES.payments) });
    expect(right.status, await right.clone().text()).toBe(200);
    const noProof = await apiCall("/hono/read", {
      headers: { Authorization: `DPoP ${token}` },
      cf: cfWith(CERTIFICATES.payments),
    });
    await expectInvalidToken(noProof, "DPoP");
  });

  describe("revocation through introspection (RFC 7662)", () => {
    async function configure(): Promise<void> {
      const rs = await registerClient({
        grant_types: ["client_credentials"],
        redirect_uris: [],
        scope: "api:read",
        resource_server: true,
      });
      const res = await apiCall("/_configure/introspection", {
        method: "POST",
        body: JSON.stringify({ clientId: rs.client_id, clientSecret: rs.client_secret }),
      });
      expect(res.status).toBe(204);
    }

    it("refuses a revoked token that still verifies, and caches live answers briefly", async () => {
      await configure();
      const client = await serviceClient();
      const live = await accessToken(client);
      expect((await withBearer("/introspected/read", live)).status).toBe(200);
      expect((await withBearer("/introspected/read", live)).status).toBe(200);
      expect(await json(await apiCall("/calls/introspected"))).toMatchObject({ introspection: 1 });

      const revoked = await accessToken(client);
      expect((await revokeRequest(client, { token: revoked })).status).toBe(200);
      // The signature still verifies: the plain route accepts it...
      expect((await withBearer("/hono/read", revoked)).status).toBe(200);
      // ...introspection does not.
      const params = await expectInvalidToken(await withBearer("/introspected/read", revoked));
      expect(params.error_description).toContain("revoked");
    });

    it("does the same by RPC through a service binding to the Introspection entrypoint, with no HTTP request", async () => {
      await configure();
      const client = await serviceClient();
      const live = await accessToken(client);
      expect((await withBearer("/rpc-introspected/read", live)).status).toBe(200);
      expect((await withBearer("/rpc-introspected/read", live)).status).toBe(200);
      const revoked = await accessToken(client);
      expect((await revokeRequest(client, { token: revoked })).status).toBe(200);
      expect((await withBearer("/hono/read", revoked)).status).toBe(200);
      const params = await expectInvalidToken(await withBearer("/rpc-introspected/read", revoked));
      expect(params.error_description).toContain("revoked");
      // Keys came over HTTP (the service binding's fetch); introspection never did.
      expect(await json(await apiCall("/calls/rpc-introspected"))).toMatchObject({
        introspection: 0,
      });
    });

    it("by RPC, the caller authenticates as at /introspect: a wrong secret fails closed (503); a client that is not a resource server is told nothing of another's token", async () => {
      const owner = await serviceClient();
      const live = await accessToken(owner);
      const configureAs = async (clientId: string, clientSecret: string) => {
        const res = await apiCall("/_configure/introspection", {
          method: "POST",
          body: JSON.stringify({ clientId, clientSecret }),
        });
        expect(res.status).toBe(204);
      };
      await configureAs(owner.client_id, "not-the-secret");
      expect((await withBearer("/rpc-introspected/read", live)).status).toBe(503);
      // RFC 7662 §4: not a resource server, so another client's token is {"active": false}.
      const other = await serviceClient();
      await configureAs(other.client_id, other.client_secret as string);
      await expectInvalidToken(await withBearer("/rpc-introspected/read", live));
      // Its own token it may introspect.
      await configureAs(owner.client_id, owner.client_secret as string);
      expect((await withBearer("/rpc-introspected/read", live)).status).toBe(200);
    });
  });

  it("has our issuer as the audience of today's tokens", async () => {
    expect(decodeJwt(await accessToken(await serviceClient())).aud).toBe(ISSUER);
  });
});

/**
 * RFC 9728: the API publishes its protected-resource metadata at the
 * well-known URL derived from its resource identifier (§3.1), and its
 * challenges point there (§5.1), so a client that only met a 401 can find
 * us.
 */
describe("the protected API's metadata (RFC 9728)", () => {
  const CALENDAR = `${API}/v1/calendar`;
  const CALENDAR_METADATA = `${API}/.well-known/oauth-protected-resource/v1/calendar`;

  /** The calendar API as a registered resource (once per run; a rerun finds it registered). */
  async function registerCalendar(): Promise<void> {
    const res = await adminCall("POST", "/admin/resources", {
      identifier: CALENDAR,
      name: "Calendar",
      scope: "api:read",
    });
    expect([201, 409], await res.clone().text()).toContain(res.status);
  }

  it("serves the document at /.well-known/oauth-protected-resource for an identifier without a path", async () => {
    const res = await apiCall("/.well-known/oauth-protected-resource");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await json(res)).toStrictEqual({
      resource: API,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ["header"],
      dpop_signing_alg_values_supported: ["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"],
      tls_client_certificate_bound_access_tokens: true,
      resource_name: "Example API",
    });
    // HEAD too; other methods and other paths are the API's own business (404 here).
    expect(
      (await apiCall("/.well-known/oauth-protected-resource", { method: "HEAD" })).status,
    ).toBe(200);
    expect(
      (await apiCall("/.well-known/oauth-protected-resource", { method: "POST" })).status,
    ).toBe(404);
    expect((await apiCall("/.well-known/oauth-protected-resource/other")).status).toBe(404);
  });

  it("the main API's challenges point at that document", async () => {
    const res = await apiCall("/hono/read");
    expect(res.status).toBe(401);
    const url = challenge(res, "Bearer")?.resource_metadata as string;
    expect(url).toBe(RESOURCE_METADATA);
    expect((await json(await apiCall(new URL(url).pathname))).resource).toBe(API);
  });

  it("inserts the well-known path before the identifier's path (RFC 9728 §3.1), and its challenges point there", async () => {
    await registerCalendar();
    // Not at the host's root document: that one is the main API's.
    const res = await apiCall("/.well-known/oauth-protected-resource/v1/calendar");
    expect(res.status).toBe(200);
    const document = await json(res);
    // §3.3: the resource "MUST be identical" to the identifier the URL was derived from.
    expect(document).toMatchObject({
      resource: CALENDAR,
      authorization_servers: [ISSUER],
      scopes_supported: ["api:read"],
      resource_name: "Calendar",
    });
    // What the API publishes agrees with what the admin API says it should.
    const advised = await json(
      await adminCall("GET", `/admin/resources/${encodeURIComponent(CALENDAR)}/metadata`),
    );
    for (const field of [
      "resource",
      "authorization_servers",
      "scopes_supported",
      "bearer_methods_supported",
      "resource_name",
      "dpop_signing_alg_values_supported",
      "tls_client_certificate_bound_access_tokens",
    ]) {
      expect(document[field], field).toStrictEqual(advised[field]);
    }

    const refused = await apiCall("/v1/calendar/events");
    expect(refused.status).toBe(401);
    expect(challenge(refused, "Bearer")?.resource_metadata).toBe(CALENDAR_METADATA);
    expect(challenge(refused, "DPoP")?.resource_metadata).toBe(CALENDAR_METADATA);
  });

  it("walks from the 401 to a token for the resource the document names, which the API accepts", async () => {
    await registerCalendar();
    const url = challenge(await apiCall("/v1/calendar/events"), "Bearer")?.resource_metadata;
    const document = await json<{ resource: string; scopes_supported: string[] }>(
      await apiCall(new URL(url as string).pathname),
    );
    const client = await registerClient({
      grant_types: ["client_credentials"],
      redirect_uris: [],
      scope: "api:read",
      resources: [document.resource],
    });
    const res = await tokenRequest(client, {
      grant_type: "client_credentials",
      resource: document.resource,
      scope: document.scopes_supported.join(" "),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const token = (await json<{ access_token: string }>(res)).access_token;
    const ok = await withBearer("/v1/calendar/events", token);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect((await json(ok)).aud).toBe(CALENDAR);
    // The main API (audience: our issuer) refuses it.
    await expectInvalidToken(await withBearer("/hono/read", token));
  });
});
