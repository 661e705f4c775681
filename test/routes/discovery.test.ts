import { describe, expect, it } from "vitest";
import { pkce } from "../support/browser";
import { registerClient, tokenRequest } from "../support/fixtures";
import { call, fetchWith, ISSUER, json } from "../support/http";
import { CERTIFICATES, certificateJwks } from "../support/mtls";

type Metadata = Record<string, unknown> & {
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  scopes_supported: string[];
  code_challenge_methods_supported: string[];
  response_types_supported: string[];
};

async function metadata(path = "/.well-known/openid-configuration"): Promise<Metadata> {
  const res = await call(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return json<Metadata>(res);
}

const ENDPOINTS: [field: string, method: string][] = [
  ["authorization_endpoint", "GET"],
  ["token_endpoint", "POST"],
  ["userinfo_endpoint", "GET"],
  ["jwks_uri", "GET"],
  ["revocation_endpoint", "POST"],
  ["introspection_endpoint", "POST"],
  ["device_authorization_endpoint", "POST"],
];

describe("discovery (RFC 8414, OIDC Discovery 1.0)", () => {
  it("serves the same document at both well-known paths, with the configured issuer", async () => {
    const oidc = await metadata("/.well-known/openid-configuration");
    const oauth = await metadata("/.well-known/oauth-authorization-server");
    expect(oauth).toEqual(oidc);
    expect(oidc.issuer).toBe(ISSUER);
  });

  it.each(ENDPOINTS)("advertises %s under the issuer, and it resolves", async (field, method) => {
    const doc = await metadata();
    const url = new URL(doc[field] as string);
    expect(url.origin).toBe(ISSUER);
    const res = await call(url.pathname, { method });
    expect(res.status).not.toBe(404);
    expect(res.status).not.toBe(405);
    expect(res.status).toBeLessThan(500);
  });

  it("advertises only grant types the token endpoint accepts", async () => {
    const doc = await metadata();
    expect([...doc.grant_types_supported].sort()).toEqual([
      "authorization_code",
      "client_credentials",
      "refresh_token",
      "urn:ietf:params:oauth:grant-type:device_code",
    ]);
    const client = await registerClient({
      grant_types: [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
      ],
    });
    for (const grant of doc.grant_types_supported) {
      const res = await tokenRequest(client, { grant_type: grant });
      const body = await json(res);
      expect(body.error, grant).not.toBe("unsupported_grant_type");
      expect(res.status).toBeLessThan(500);
    }
    const unknown = await json(await tokenRequest(client, { grant_type: "password" }));
    expect(unknown.error).toBe("unsupported_grant_type");
  });

  it("advertises only client authentication methods a client can register and use", async () => {
    const doc = await metadata();
    expect([...doc.token_endpoint_auth_methods_supported].sort()).toEqual(
      [
        "client_secret_basic",
        "client_secret_jwt",
        "client_secret_post",
        "none",
        "private_key_jwt",
        "self_signed_tls_client_auth",
        "tls_client_auth",
      ].sort(),
    );
    expect(doc.revocation_endpoint_auth_methods_supported).toEqual(
      doc.token_endpoint_auth_methods_supported,
    );
    // RFC 7662 §2.1: introspection needs a client that authenticates.
    expect(doc.introspection_endpoint_auth_methods_supported).toEqual(
      doc.token_endpoint_auth_methods_supported.filter((m: string) => m !== "none"),
    );
    const { publicKey } = (await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey("jwk", publicKey);
    const credentials: Record<string, Record<string, unknown>> = {
      private_key_jwt: { jwks: { keys: [{ ...jwk, kid: "k1" }] } },
      tls_client_auth: { tls_client_auth_subject_dn: CERTIFICATES.payments.subjectDn },
      self_signed_tls_client_auth: { jwks: await certificateJwks(CERTIFICATES.app1) },
    };
    for (const method of doc.token_endpoint_auth_methods_supported) {
      const client = await registerClient({
        token_endpoint_auth_method: method,
        ...credentials[method],
      });
      expect(client.token_endpoint_auth_method).toBe(method);
    }
    for (const alg of doc.token_endpoint_auth_signing_alg_values_supported as string[]) {
      expect(["ES256", "ES384", "PS256", "RS256", "EdDSA", "HS256", "HS384", "HS512"]).toContain(
        alg,
      );
    }
  });

  it("advertises certificate-bound access tokens (RFC 8705 §3.3), and no mTLS aliases unless configured", async () => {
    const doc = await metadata();
    expect(doc.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(doc).not.toHaveProperty("mtls_endpoint_aliases");
  });

  it("lists the endpoints a client calls directly under MTLS_ENDPOINT_ORIGIN (RFC 8705 §5)", async () => {
    const res = await fetchWith(
      { MTLS_ENDPOINT_ORIGIN: "https://mtls.auth.example.test" },
      `${ISSUER}/.well-known/oauth-authorization-server`,
    );
    const doc = await json<Metadata>(res);
    expect(doc.mtls_endpoint_aliases).toStrictEqual({
      token_endpoint: "https://mtls.auth.example.test/token",
      revocation_endpoint: "https://mtls.auth.example.test/revoke",
      introspection_endpoint: "https://mtls.auth.example.test/introspect",
      userinfo_endpoint: "https://mtls.auth.example.test/userinfo",
    });
    // The issuer and the conventional endpoints stay where they are.
    expect(doc.issuer).toBe(ISSUER);
    expect(doc.token_endpoint).toBe(`${ISSUER}/token`);
  });

  it("does not advertise signed userinfo, which it never produces", async () => {
    const doc = await metadata();
    expect(doc).not.toHaveProperty("userinfo_signing_alg_values_supported");
  });

  it("advertises S256 only, and /authorize refuses plain", async () => {
    const doc = await metadata();
    expect(doc.code_challenge_methods_supported).toEqual(["S256"]);
    const client = await registerClient();
    const { challenge } = await pkce();
    const params = (method: string) =>
      new URLSearchParams({
        response_type: "code",
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0] as string,
        scope: "openid",
        code_challenge: challenge,
        code_challenge_method: method,
      });
    const plain = await call(`/authorize?${params("plain")}`, { redirect: "manual" });
    expect(new URL(plain.headers.get("location") as string).searchParams.get("error")).toBe(
      "invalid_request",
    );
    const s256 = await call(`/authorize?${params("S256")}`, { redirect: "manual" });
    expect(s256.status).toBe(200); // the login page: the request itself was accepted
  });

  it("advertises response_type code only, and /authorize refuses the others", async () => {
    const doc = await metadata();
    expect(doc.response_types_supported).toEqual(["code"]);
    const client = await registerClient();
    const query = new URLSearchParams({
      response_type: "token",
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0] as string,
    });
    const res = await call(`/authorize?${query}`, { redirect: "manual" });
    expect(new URL(res.headers.get("location") as string).searchParams.get("error")).toBe(
      "unsupported_response_type",
    );
  });

  it("advertises scopes a client can be registered for", async () => {
    const doc = await metadata();
    expect(doc.scopes_supported).toEqual(
      expect.arrayContaining(["openid", "profile", "email", "offline_access"]),
    );
    const client = await registerClient({ scope: doc.scopes_supported.join(" ") });
    expect((client.scope as string).split(" ").sort()).toEqual([...doc.scopes_supported].sort());
  });

  it("advertises the algorithm of the keys in its JWKS", async () => {
    const doc = await metadata();
    const jwks = await json<{ keys: { alg: string; kid: string; use: string }[] }>(
      await call("/jwks"),
    );
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(doc.id_token_signing_alg_values_supported).toContain(key.alg);
      expect(key.kid).toBeTruthy();
      expect(key.use).toBe("sig");
      expect(key).not.toHaveProperty("d");
    }
  });

  it("is cacheable, unlike responses that carry tokens", async () => {
    const res = await call("/.well-known/openid-configuration");
    expect(res.headers.get("cache-control")).toContain("max-age");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});
