import { env } from "cloudflare:workers";
import { base64url, decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { openClientSecret } from "../../src/clients/secrets";
import { serverKeys } from "../../src/server-keys";
import { assertionParams, clientKey, signWithSecret } from "../support/assertions";
import { codeFlow } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
} from "../support/fixtures";
import { adminCall, basic, call, json, postForm } from "../support/http";
import { CERTIFICATES, certificateJwks, x5tOf } from "../support/mtls";

/**
 * The admin API for clients: create, read, list, update (PATCH), delete and
 * rotate a secret, behind the admin bearer token. Secrets are minted by the
 * server, shown once, and stored only as a hash (or sealed, for
 * client_secret_jwt). Bad input is a 400 that names the field.
 */

interface ClientRecordJson {
  client_id: string;
  credential: { method: string; secretHash?: string; sealedSecret?: string; jwks?: unknown };
  [field: string]: unknown;
}

const recordText = (clientId: string) => env.CLIENTS.get(`client:${clientId}`);

async function record(clientId: string): Promise<ClientRecordJson> {
  const text = await recordText(clientId);
  expect(text, "the client is in the registry").not.toBeNull();
  return JSON.parse(text as string) as ClientRecordJson;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A client_credentials request authenticated with Basic: 200 or 401 tells whether the secret works. */
const basicToken = (clientId: string, secret: string) =>
  postForm(
    "/token",
    { grant_type: "client_credentials" },
    { Authorization: basic(clientId, secret) },
  );

const machineClient = (overrides: Record<string, unknown> = {}) =>
  registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "api:read",
    ...overrides,
  });

const minimal = { client_name: "Minimal", redirect_uris: [REDIRECT_URI] };

/** 400 invalid_request whose description starts with the field's name. */
async function expectFieldError(res: Response, field: string): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(400);
  const body = JSON.parse(text) as { error: string; error_description: string };
  expect(body.error).toBe("invalid_request");
  expect(body.error_description.startsWith(`${field}: `), body.error_description).toBe(true);
  return body.error_description;
}

describe("the admin API's credentials", () => {
  const routes: [string, string, unknown?][] = [
    ["GET", "/admin/clients"],
    ["POST", "/admin/clients", minimal],
    ["GET", "/admin/clients/some-client"],
    ["PATCH", "/admin/clients/some-client", { client_name: "x" }],
    ["DELETE", "/admin/clients/some-client"],
    ["POST", "/admin/clients/some-client/secret"],
  ];

  it.each(routes)(
    "guards %s %s: 401 without a token, with a wrong one, or with Basic",
    async (method, path, body) => {
      // Basic is an administrator's sign-in, and failures lock the name per address:
      // each route tries from an address of its own.
      const address = `192.0.2.${routes.findIndex(([m, p]) => m === method && p === path) + 1}`;
      const init = (authorization?: string): RequestInit => ({
        method,
        headers: {
          "CF-Connecting-IP": address,
          ...(authorization ? { Authorization: authorization } : {}),
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      for (const authorization of [
        undefined,
        "Bearer not-the-admin-token",
        `Bearer ${env.ADMIN_TOKEN}x`,
        basic("admin", env.ADMIN_TOKEN as string),
      ]) {
        const res = await call(path, init(authorization));
        expect(res.status).toBe(401);
        expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
        expect((await json(res)).error).toBe("invalid_token");
      }
    },
  );

  it("refuses to create a client without the token, so none is stored", async () => {
    const before = (await env.CLIENTS.list({ prefix: "client:" })).keys.length;
    const res = await call("/admin/clients", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(minimal),
    });
    expect(res.status).toBe(401);
    expect((await env.CLIENTS.list({ prefix: "client:" })).keys.length).toBe(before);
  });
});

describe("creating a client (POST /admin/clients)", () => {
  it("fills in the documented defaults: a confidential client_secret_basic code-flow client", async () => {
    const res = await adminCall("POST", "/admin/clients", minimal);
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const created = await json(res);
    expect(created).toMatchObject({
      client_name: "Minimal",
      client_type: "confidential",
      token_endpoint_auth_method: "client_secret_basic",
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      scope: "openid",
      access_token_lifetime: null,
      refresh_token: {},
      consent: "required",
      resource_server: false,
    });
    expect(created.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("shows a secret of at least 256 bits once, and stores only its SHA-256", async () => {
    const client = await machineClient();
    const secret = client.client_secret as string;
    expect(base64url.decode(secret).byteLength).toBeGreaterThanOrEqual(32);

    const stored = await record(client.client_id);
    expect(stored.credential).toEqual({
      method: "client_secret_basic",
      secretHash: await sha256Hex(secret),
    });
    expect(await recordText(client.client_id)).not.toContain(secret);

    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view).not.toHaveProperty("client_secret");
    expect(JSON.stringify(view)).not.toContain(secret);
    expect(JSON.stringify(view)).not.toContain(stored.credential.secretHash);
  });

  it("mints a different secret and client_id for every client", async () => {
    const [a, b] = await Promise.all([machineClient(), machineClient()]);
    expect(a?.client_id).not.toBe(b?.client_id);
    expect(a?.client_secret).not.toBe(b?.client_secret);
  });

  it("seals a client_secret_jwt secret under the server key: no plaintext and no hash in the registry", async () => {
    const client = await machineClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const secret = client.client_secret as string;
    expect(base64url.decode(secret).byteLength).toBeGreaterThanOrEqual(32);

    const text = (await recordText(client.client_id)) as string;
    const stored = await record(client.client_id);
    expect(stored.credential.method).toBe("client_secret_jwt");
    expect(stored.credential).not.toHaveProperty("secretHash");
    expect(text).not.toContain(secret);
    expect(text).not.toContain(await sha256Hex(secret));
    const opened = await openClientSecret(
      stored.credential.sealedSecret as string,
      (await serverKeys(env)).clientSecret,
    );
    expect(new TextDecoder().decode(opened)).toBe(secret);
  });

  it("gives a public client no secret at all", async () => {
    const res = await adminCall("POST", "/admin/clients", { ...minimal, client_type: "public" });
    expect(res.status).toBe(201);
    const created = await json<RegisteredClient>(res);
    expect(created).not.toHaveProperty("client_secret");
    expect(created).toMatchObject({ client_type: "public", token_endpoint_auth_method: "none" });
    expect((await record(created.client_id)).credential).toEqual({ method: "none" });
  });

  it("stores the public keys of a private_key_jwt client, and no secret", async () => {
    const key = await clientKey("ES256");
    const client = await machineClient({
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [key.publicJwk] },
    });
    expect(client).not.toHaveProperty("client_secret");
    expect(client.jwks).toEqual({ keys: [key.publicJwk] });
    expect((await record(client.client_id)).credential).toEqual({
      method: "private_key_jwt",
      jwks: { keys: [key.publicJwk] },
    });
  });

  it.each([
    ["https", "https://app.example.test/callback"],
    ["a private-use scheme (RFC 8252 §7.1)", "com.example.app:/oauth2redirect"],
    ["loopback IPv4 over http (RFC 8252 §7.3)", "http://127.0.0.1/callback"],
    ["loopback IPv6 over http (RFC 8252 §7.3)", "http://[::1]/callback"],
    ["localhost with a port", "http://localhost:8080/callback"],
    ["a query string", "https://app.example.test/callback?tenant=a"],
  ])("accepts a redirect URI with %s", async (_, uri) => {
    const res = await adminCall("POST", "/admin/clients", { ...minimal, redirect_uris: [uri] });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json(res)).redirect_uris).toEqual([uri]);
  });
});

describe("validation errors: 400 invalid_request naming the field", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["an unknown field", { ...minimal, colour: "blue" }, "colour"],
    [
      "an unknown refresh setting",
      { ...minimal, refresh_token: { forever: true } },
      "refresh_token.forever",
    ],
    ["a client_id chosen by the caller", { ...minimal, client_id: "mine" }, "client_id"],
    [
      "a client_secret chosen by the caller",
      { ...minimal, client_secret: "s3cret" },
      "client_secret",
    ],
    ["a missing client_name", { redirect_uris: [REDIRECT_URI] }, "client_name"],
    [
      "a backchannel_logout_uri over plain http (loopback too, outside development)",
      { ...minimal, backchannel_logout_uri: "http://127.0.0.1:3000/logout" },
      "backchannel_logout_uri",
    ],
    [
      "a relative backchannel_logout_uri",
      { ...minimal, backchannel_logout_uri: "/logout" },
      "backchannel_logout_uri",
    ],
    ["a client_name that is not a string", { ...minimal, client_name: 42 }, "client_name"],
    [
      "a public client with a secret method",
      { ...minimal, client_type: "public", token_endpoint_auth_method: "client_secret_basic" },
      "token_endpoint_auth_method",
    ],
    [
      "a public client with private_key_jwt",
      { ...minimal, client_type: "public", token_endpoint_auth_method: "private_key_jwt" },
      "token_endpoint_auth_method",
    ],
    [
      "a public client with a secret",
      { ...minimal, client_type: "public", client_secret: "s3cret" },
      "client_secret",
    ],
    [
      "a confidential client with no authentication",
      { ...minimal, client_type: "confidential", token_endpoint_auth_method: "none" },
      "token_endpoint_auth_method",
    ],
    [
      "an unknown method",
      { ...minimal, token_endpoint_auth_method: "attest_jwt_client_auth" },
      "token_endpoint_auth_method",
    ],
    ["an unknown client type", { ...minimal, client_type: "trusted" }, "client_type"],
    [
      "client_credentials for a public client (RFC 6749 §4.4)",
      {
        ...minimal,
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "client_credentials"],
      },
      "grant_types",
    ],
    [
      "a public client whose refresh tokens do not rotate (RFC 9700 §4.14.2)",
      { ...minimal, token_endpoint_auth_method: "none", refresh_token: { rotation: "reuse" } },
      "refresh_token.rotation",
    ],
    [
      "a public client that keeps its refresh token on refresh",
      {
        ...minimal,
        token_endpoint_auth_method: "none",
        refresh_token: { issue_on_refresh: false },
      },
      "refresh_token.rotation",
    ],
    [
      "a plain-http redirect URI that is not loopback",
      { ...minimal, redirect_uris: ["http://app.example.test/callback"] },
      "redirect_uris[0]",
    ],
    [
      "a redirect URI with a fragment (RFC 6749 §3.1.2)",
      { ...minimal, redirect_uris: ["https://app.example.test/callback#top"] },
      "redirect_uris[0]",
    ],
    [
      "a bad second redirect URI",
      { ...minimal, redirect_uris: [REDIRECT_URI, "/relative/callback"] },
      "redirect_uris[1]",
    ],
    [
      "a custom scheme that is not a reverse domain name (RFC 8252 §7.1)",
      { ...minimal, redirect_uris: ["myapp:/callback"] },
      "redirect_uris[0]",
    ],
    [
      "a javascript: redirect URI",
      { ...minimal, redirect_uris: ["javascript:alert(1)"] },
      "redirect_uris[0]",
    ],
    [
      "a redirect URI with user information",
      { ...minimal, redirect_uris: ["https://user:pw@app.example.test/cb"] },
      "redirect_uris[0]",
    ],
    ["redirect_uris that are not strings", { ...minimal, redirect_uris: [42] }, "redirect_uris"],
    [
      "authorization_code without a redirect URI",
      { client_name: "No redirect", grant_types: ["authorization_code"] },
      "redirect_uris",
    ],
    [
      "refresh_token without authorization_code",
      { ...minimal, grant_types: ["refresh_token"] },
      "grant_types",
    ],
    ["an unsupported grant type", { ...minimal, grant_types: ["password"] }, "grant_types"],
    ["no grant type", { ...minimal, grant_types: [] }, "grant_types"],
    ["a scope the provider does not support", { ...minimal, scope: "openid admin" }, "scope"],
    ["a scope that is not a string", { ...minimal, scope: ["openid"] }, "scope"],
    ["an empty scope", { ...minimal, scope: " " }, "scope"],
    [
      "an access-token lifetime under a minute",
      { ...minimal, access_token_lifetime: 10 },
      "access_token_lifetime",
    ],
    [
      "an access-token lifetime over a day",
      { ...minimal, access_token_lifetime: 86_401 },
      "access_token_lifetime",
    ],
    [
      "an access-token lifetime as a string",
      { ...minimal, access_token_lifetime: "900" },
      "access_token_lifetime",
    ],
    [
      "a grace window over 60 seconds",
      { ...minimal, refresh_token: { grace_seconds: 61 } },
      "refresh_token.grace_seconds",
    ],
    [
      "an unknown rotation mode",
      { ...minimal, refresh_token: { rotation: "sometimes" } },
      "refresh_token.rotation",
    ],
    [
      "no new token on refresh together with rotation",
      { ...minimal, refresh_token: { rotation: "rotate", issue_on_refresh: false } },
      "refresh_token.issue_on_refresh",
    ],
    [
      "refresh settings that are not an object",
      { ...minimal, refresh_token: true },
      "refresh_token",
    ],
    [
      "private_key_jwt without keys",
      { ...minimal, token_endpoint_auth_method: "private_key_jwt" },
      "jwks",
    ],
    [
      "keys for a client that does not use private_key_jwt",
      { ...minimal, jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] } },
      "jwks",
    ],
    [
      "a private key in the JWKS",
      {
        ...minimal,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "d" }] },
      },
      "jwks.keys[0]",
    ],
    [
      "a symmetric key in the JWKS",
      {
        ...minimal,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [{ kty: "oct" }] },
      },
      "jwks.keys[0].kty",
    ],
    [
      "an ID token algorithm the provider does not sign with",
      { ...minimal, id_token_signed_response_alg: "HS256" },
      "id_token_signed_response_alg",
    ],
    [
      "a JWK with a nested member",
      {
        ...minimal,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: {
          keys: [
            {
              ...{
                kty: "EC",
                crv: "P-256",
                x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
              },
              x5u: { a: { b: { c: 1 } } },
            },
          ],
        },
      },
      "jwks.keys[0].x5u",
    ],
    [
      "a JWK with a member its type does not have",
      {
        ...minimal,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: {
          keys: [
            {
              ...{
                kty: "EC",
                crv: "P-256",
                x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
              },
              n: "AQAB",
              extra: {},
            },
          ],
        },
      },
      "jwks.keys[0]",
    ],
    [
      "a JWK on an unknown curve",
      {
        ...minimal,
        token_endpoint_auth_method: "private_key_jwt",
        jwks: {
          keys: [
            {
              ...{
                kty: "EC",
                crv: "P-256",
                x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
              },
              crv: "secp256k1",
            },
          ],
        },
      },
      "jwks.keys[0].crv",
    ],
    [
      "an empty JWKS",
      { ...minimal, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [] } },
      "jwks.keys",
    ],
    [
      "a public resource server",
      { ...minimal, client_type: "public", resource_server: true },
      "resource_server",
    ],
    ["an unknown consent mode", { ...minimal, consent: "maybe" }, "consent"],
    ["a body that is not an object", [minimal] as unknown as Record<string, unknown>, "body"],
  ])("refuses %s", async (_, body, field) => {
    await expectFieldError(await adminCall("POST", "/admin/clients", body), field);
  });

  it("does not echo a field name that does not look like one", async () => {
    const description = await expectFieldError(
      await adminCall("POST", "/admin/clients", { ...minimal, "<script>x</script>": 1 }),
      "(a field)",
    );
    expect(description).not.toContain("<script>");
  });

  it("refuses a body that is not JSON, or not declared as JSON", async () => {
    const headers = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
    const notJson = await call("/admin/clients", {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: "{client_name:",
    });
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error).toBe("invalid_request");
    const form = await call("/admin/clients", {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
      body: "client_name=x",
    });
    expect(form.status).toBe(400);
    expect((await json(form)).error).toBe("invalid_request");
  });
});

describe("mutual-TLS clients (RFC 8705 §2.1.2, §2.2.2, §3.4)", () => {
  const { payments, app1, app2 } = CERTIFICATES;
  const machine = {
    ...minimal,
    redirect_uris: [],
    grant_types: ["client_credentials"],
    scope: "api:read",
  };

  it("registers tls_client_auth with the certificate's subject DN, and no secret", async () => {
    const res = await adminCall("POST", "/admin/clients", {
      ...machine,
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: payments.subjectDn,
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const view = await json<RegisteredClient>(res);
    expect(view).toMatchObject({
      client_type: "confidential",
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: payments.subjectDn,
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(view).not.toHaveProperty("client_secret");
    expect((await record(view.client_id)).credential).toEqual({
      method: "tls_client_auth",
      subjectDn: payments.subjectDn,
    });
  });

  it("registers self_signed_tls_client_auth with its certificates, stored with their x5t#S256", async () => {
    const jwks = await certificateJwks(app1, app2);
    const res = await adminCall("POST", "/admin/clients", {
      ...machine,
      token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const view = await json<RegisteredClient>(res);
    expect(view).toMatchObject({ token_endpoint_auth_method: "self_signed_tls_client_auth", jwks });
    expect(view).not.toHaveProperty("client_secret");
    expect((await record(view.client_id)).credential).toEqual({
      method: "self_signed_tls_client_auth",
      jwks,
      thumbprints: [await x5tOf(app1), await x5tOf(app2)],
    });
  });

  it("moves a client between a secret and a certificate, keeping nothing the new method does not use", async () => {
    const client = await machineClient();
    const toTls = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: payments.subjectDn,
    });
    expect(toTls.status, await toTls.clone().text()).toBe(200);
    expect((await record(client.client_id)).credential).toEqual({
      method: "tls_client_auth",
      subjectDn: payments.subjectDn,
    });
    expect((await basicToken(client.client_id, client.client_secret as string)).status).toBe(401);
    // No secret to rotate.
    const rotate = await adminCall("POST", `/admin/clients/${client.client_id}/secret`);
    expect(rotate.status).toBe(400);
    const back = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: "client_secret_basic",
    });
    const view = await json<RegisteredClient>(back);
    expect(back.status).toBe(200);
    expect(view).not.toHaveProperty("tls_client_auth_subject_dn");
    expect((await basicToken(client.client_id, view.client_secret as string)).status).toBe(200);
  });

  const otherKey = async () => {
    const { keys } = await certificateJwks(app1, app2);
    return { keys: [{ ...keys[0], x5c: [app2.der] }] };
  };
  it.each<[string, () => Promise<Record<string, unknown>>, string]>([
    [
      "tls_client_auth without a subject DN",
      async () => ({ token_endpoint_auth_method: "tls_client_auth" }),
      "tls_client_auth_subject_dn",
    ],
    [
      "a subject that is not a distinguished name",
      async () => ({
        token_endpoint_auth_method: "tls_client_auth",
        tls_client_auth_subject_dn: "payments.example.com",
      }),
      "tls_client_auth_subject_dn",
    ],
    [
      "a subject DN for a client that does not use tls_client_auth",
      async () => ({ tls_client_auth_subject_dn: payments.subjectDn }),
      "tls_client_auth_subject_dn",
    ],
    [
      "a public client using tls_client_auth",
      async () => ({
        client_type: "public",
        token_endpoint_auth_method: "tls_client_auth",
        tls_client_auth_subject_dn: payments.subjectDn,
      }),
      "token_endpoint_auth_method",
    ],
    [
      "self_signed_tls_client_auth without certificates",
      async () => ({ token_endpoint_auth_method: "self_signed_tls_client_auth" }),
      "jwks",
    ],
    [
      "a self-signed client's key without x5c",
      async () => {
        const { keys } = await certificateJwks(app1);
        const { x5c: _, ...key } = keys[0] as Record<string, unknown>;
        return { token_endpoint_auth_method: "self_signed_tls_client_auth", jwks: { keys: [key] } };
      },
      "jwks.keys[0].x5c",
    ],
    [
      "an empty x5c",
      async () => {
        const { keys } = await certificateJwks(app1);
        return {
          token_endpoint_auth_method: "self_signed_tls_client_auth",
          jwks: { keys: [{ ...keys[0], x5c: [] }] },
        };
      },
      "jwks.keys[0].x5c",
    ],
    [
      "a certificate in base64url",
      async () => {
        const { keys } = await certificateJwks(app1);
        const der = app1.der.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        return {
          token_endpoint_auth_method: "self_signed_tls_client_auth",
          jwks: { keys: [{ ...keys[0], x5c: [der] }] },
        };
      },
      "jwks.keys[0].x5c[0]",
    ],
    [
      "something that is not a certificate in x5c",
      async () => {
        const { keys } = await certificateJwks(app1);
        return {
          token_endpoint_auth_method: "self_signed_tls_client_auth",
          jwks: { keys: [{ ...keys[0], x5c: [btoa("not a certificate")] }] },
        };
      },
      "jwks.keys[0].x5c[0]",
    ],
    [
      "a certificate of another key (RFC 7517 section 4.7)",
      async () => ({
        token_endpoint_auth_method: "self_signed_tls_client_auth",
        jwks: await otherKey(),
      }),
      "jwks.keys[0].x5c[0]",
    ],
    [
      "a private key with its certificate",
      async () => {
        const { keys } = await certificateJwks(app1);
        return {
          token_endpoint_auth_method: "self_signed_tls_client_auth",
          jwks: { keys: [{ ...keys[0], d: "c2VjcmV0" }] },
        };
      },
      "jwks.keys[0]",
    ],
    [
      "tls_client_certificate_bound_access_tokens that is not a boolean",
      async () => ({ tls_client_certificate_bound_access_tokens: "yes" }),
      "tls_client_certificate_bound_access_tokens",
    ],
  ])("refuses %s", async (_, fields, field) => {
    const res = await adminCall("POST", "/admin/clients", { ...machine, ...(await fields()) });
    await expectFieldError(res, field);
  });
});

describe("reading and listing clients", () => {
  it("reads a client by id, and answers 404 not_found for an unknown one", async () => {
    const client = await registerClient();
    const res = await adminCall("GET", `/admin/clients/${client.client_id}`);
    expect(res.status).toBe(200);
    const { client_secret: _secret, ...view } = client;
    expect(await json(res)).toEqual(view);

    const missing = await adminCall("GET", "/admin/clients/no-such-client");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toBe("not_found");
  });

  it("lists every client with its name, page by page", async () => {
    const created = await Promise.all([
      registerClient({ client_name: "Listed A" }),
      registerClient({ client_name: "Listed B" }),
    ]);
    const listed = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const res = await adminCall(
        "GET",
        `/admin/clients?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const page = await json<{
        clients: { client_id: string; client_name: string }[];
        next_cursor?: string;
      }>(res);
      for (const c of page.clients) listed.set(c.client_id, c.client_name);
      cursor = page.next_cursor;
    } while (cursor);
    expect(listed.get(created[0]?.client_id as string)).toBe("Listed A");
    expect(listed.get(created[1]?.client_id as string)).toBe("Listed B");
  });
});

describe("updating a client (PATCH /admin/clients/{id})", () => {
  it("changes the fields given and keeps the others, the id and the secret", async () => {
    const client = await machineClient({ client_name: "Before", access_token_lifetime: 300 });
    const res = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      client_name: "After",
      scope: "api:read api:write",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = await json(res);
    expect(updated).not.toHaveProperty("client_secret");
    expect(updated).toMatchObject({
      client_id: client.client_id,
      client_name: "After",
      scope: "api:read api:write",
      access_token_lifetime: 300,
      grant_types: ["client_credentials"],
      created_at: client.created_at,
    });
    expect(updated.updated_at as number).toBeGreaterThanOrEqual(client.updated_at as number);
    expect((await basicToken(client.client_id, client.client_secret as string)).status).toBe(200);
  });

  it("validates the merged client: an impossible combination is refused and nothing changes", async () => {
    const client = await registerPublicClient();
    await expectFieldError(
      await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
        grant_types: ["authorization_code", "client_credentials"],
      }),
      "grant_types",
    );
    await expectFieldError(
      await adminCall("PATCH", `/admin/clients/${client.client_id}`, { tint: "red" }),
      "tint",
    );
    await expectFieldError(
      await adminCall("PATCH", `/admin/clients/${client.client_id}`, { client_id: "other" }),
      "client_id",
    );
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view.grant_types).toEqual(client.grant_types);
  });

  it("keeps the secret when switching between client_secret_basic and client_secret_post", async () => {
    const client = await machineClient();
    const res = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: "client_secret_post",
    });
    expect(res.status).toBe(200);
    expect(await json(res)).not.toHaveProperty("client_secret");
    const post = await postForm("/token", {
      grant_type: "client_credentials",
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(post.status).toBe(200);
    expect((await basicToken(client.client_id, client.client_secret as string)).status).toBe(401);
  });

  it("mints and shows a new secret when the method needs a different kind of secret", async () => {
    const client = await machineClient();
    const res = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: "client_secret_jwt",
    });
    expect(res.status).toBe(200);
    const updated = await json<RegisteredClient>(res);
    expect(updated.client_secret).toEqual(expect.any(String));
    expect(updated.client_secret).not.toBe(client.client_secret);
    const assertion = await signWithSecret(updated.client_secret as string, client.client_id);
    const token = await postForm("/token", {
      grant_type: "client_credentials",
      ...assertionParams(assertion),
    });
    expect(token.status).toBe(200);
  });

  it("drops the secret hash when a client becomes public", async () => {
    const client = await registerClient();
    const res = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: "none",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json(res)).toMatchObject({ client_type: "public" });
    expect((await record(client.client_id)).credential).toEqual({ method: "none" });
  });

  it("answers 404 for an unknown client", async () => {
    const res = await adminCall("PATCH", "/admin/clients/no-such-client", { client_name: "x" });
    expect(res.status).toBe(404);
  });
});

describe("rotating a secret (POST /admin/clients/{id}/secret)", () => {
  it("shows a new secret once; the old one stops working and the new one works", async () => {
    const client = await machineClient();
    const old = client.client_secret as string;
    const res = await adminCall("POST", `/admin/clients/${client.client_id}/secret`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const { client_id, client_secret } = await json<{ client_id: string; client_secret: string }>(
      res,
    );
    expect(client_id).toBe(client.client_id);
    expect(client_secret).not.toBe(old);
    expect(base64url.decode(client_secret).byteLength).toBeGreaterThanOrEqual(32);
    expect((await record(client.client_id)).credential.secretHash).toBe(
      await sha256Hex(client_secret),
    );

    expect((await basicToken(client.client_id, old)).status).toBe(401);
    expect((await basicToken(client.client_id, client_secret)).status).toBe(200);
  });

  it("rotates a client_secret_jwt secret: assertions keyed with the old one are refused", async () => {
    const client = await machineClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const res = await adminCall("POST", `/admin/clients/${client.client_id}/secret`);
    const { client_secret } = await json<{ client_secret: string }>(res);
    const withSecret = async (secret: string) =>
      postForm("/token", {
        grant_type: "client_credentials",
        ...assertionParams(await signWithSecret(secret, client.client_id)),
      });
    expect((await withSecret(client.client_secret as string)).status).toBe(401);
    expect((await withSecret(client_secret)).status).toBe(200);
  });

  it("refuses to rotate for a client that has no secret, and answers 404 for an unknown one", async () => {
    const publicClient = await registerPublicClient();
    const key = await clientKey("ES256");
    const keyClient = await machineClient({
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [key.publicJwk] },
    });
    for (const client of [publicClient, keyClient]) {
      const res = await adminCall("POST", `/admin/clients/${client.client_id}/secret`);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("invalid_request");
    }
    expect((await adminCall("POST", "/admin/clients/no-such-client/secret")).status).toBe(404);
  });
});

describe("deleting a client (DELETE /admin/clients/{id})", () => {
  it("removes it from the registry: 204, then 404 on read and on a second delete", async () => {
    const client = await registerClient();
    const res = await adminCall("DELETE", `/admin/clients/${client.client_id}`);
    expect(res.status).toBe(204);
    expect(await recordText(client.client_id)).toBeNull();
    expect((await adminCall("GET", `/admin/clients/${client.client_id}`)).status).toBe(404);
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(404);
  });
});

describe("a client's own settings over the provider defaults", () => {
  it("shows the client's refresh settings and access-token lifetime as it set them", async () => {
    const refresh_token = {
      rotation: "reuse",
      issue_on_refresh: true,
      grace_seconds: 10,
      absolute_lifetime: 3600,
      idle_lifetime: 600,
      require_offline_access: true,
    };
    const client = await registerClient({ refresh_token, access_token_lifetime: 120 });
    const view = await json(await adminCall("GET", `/admin/clients/${client.client_id}`));
    expect(view.refresh_token).toEqual(refresh_token);
    expect(view.access_token_lifetime).toBe(120);
  });

  it("issues access tokens for the client's lifetime, and the provider's (900 s) when it has none", async () => {
    const own = await machineClient({ access_token_lifetime: 120 });
    const provider = await machineClient();
    for (const [client, lifetime] of [
      [own, 120],
      [provider, 900],
    ] as const) {
      const res = await basicToken(client.client_id, client.client_secret as string);
      const body = await json<{ access_token: string; expires_in: number }>(res);
      expect(body.expires_in).toBe(lifetime);
      const claims = decodeJwt(body.access_token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(lifetime);
    }
    // Clearing the client's value falls back to the provider default.
    const cleared = await adminCall("PATCH", `/admin/clients/${own.client_id}`, {
      access_token_lifetime: null,
    });
    expect((await json(cleared)).access_token_lifetime).toBeNull();
    const res = await basicToken(own.client_id, own.client_secret as string);
    expect((await json(res)).expires_in).toBe(900);
  });

  it("issues no refresh token to a client that turned them off, though the provider issues them", async () => {
    const user = await registerUser();
    const withDefaults = await registerClient();
    const withoutRefresh = await registerClient({ refresh_token: { issue: false } });
    expect((await codeFlow(withDefaults, user)).refresh_token).toMatch(/^rt1\./);
    const tokens = await codeFlow(withoutRefresh, user);
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens).not.toHaveProperty("refresh_token");
  });
});
