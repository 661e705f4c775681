import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { assertionParams, clientKey, signWithKey } from "../support/assertions";
import { DpopKey, serverNonce } from "../support/dpop";
import { registerClient, registerPublicClient, registerUser } from "../support/fixtures";
import { ADMIN_TOKEN, basic, fetchWith, formBody, ISSUER, json } from "../support/http";
import {
  CERTIFICATES,
  cfWith,
  mtlsCodeFlow,
  registerTlsClient,
  type TestCertificate,
} from "../support/mtls";

/**
 * The mTLS endpoint aliases (RFC 8705 §5): with MTLS_ENDPOINT_ORIGIN set,
 * the Worker answers the token, revocation, introspection and userinfo
 * endpoints on that origin too (a hostname with mTLS enabled at Cloudflare),
 * and nothing else there; the issuer stays ISSUER whatever origin a request
 * came to.
 */

const ALIAS = "https://mtls.auth.example.test";
const withAlias = { MTLS_ENDPOINT_ORIGIN: ALIAS };
const { payments } = CERTIFICATES;

function onAlias(
  path: string,
  init: { params?: Record<string, string>; headers?: Record<string, string>; method?: string } = {},
  certificate: TestCertificate | undefined = undefined,
): Promise<Response> {
  const post = init.params !== undefined;
  return fetchWith(
    withAlias,
    new Request(`${ALIAS}${path}`, {
      method: init.method ?? (post ? "POST" : "GET"),
      headers: {
        ...(post ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
        ...init.headers,
      },
      ...(post ? { body: formBody(init.params ?? {}) } : {}),
      cf: cfWith(certificate),
    }),
  );
}

describe("the mTLS alias origin (RFC 8705 §5)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("authenticates over mutual TLS at its token endpoint, and issues tokens of the one issuer", async () => {
    const client = await registerTlsClient();
    const res = await onAlias(
      "/token",
      { params: { grant_type: "client_credentials", client_id: client.client_id } },
      payments,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const token = (await json<{ access_token: string }>(res)).access_token;
    expect(decodeJwt(token)).toMatchObject({ iss: ISSUER, aud: ISSUER });
  });

  it("answers introspection, revocation and userinfo there", async () => {
    const client = await registerTlsClient({ resource_server: true });
    const issued = await onAlias(
      "/token",
      { params: { grant_type: "client_credentials", client_id: client.client_id } },
      payments,
    );
    const token = (await json<{ access_token: string }>(issued)).access_token;
    const params = { token, client_id: client.client_id };
    expect(await json(await onAlias("/introspect", { params }, payments))).toMatchObject({
      active: true,
    });
    expect((await onAlias("/revoke", { params }, payments)).status).toBe(200);

    const app = await registerPublicClient({ consent: "implicit" });
    const { app1 } = CERTIFICATES;
    const user = await mtlsCodeFlow(app, await registerUser(), app1);
    const userinfo = await onAlias(
      "/userinfo",
      { headers: { Authorization: `Bearer ${user.access_token}` } },
      app1,
    );
    expect(userinfo.status, await userinfo.clone().text()).toBe(200);
  });

  it("serves nothing else there: no pages, discovery or admin API", async () => {
    for (const path of [
      "/.well-known/openid-configuration",
      "/authorize",
      "/jwks",
      "/login",
      "/",
    ]) {
      const res = await onAlias(path);
      expect(res.status, path).toBe(404);
      expect((await json(res)).error).toBe("not_found");
    }
    const admin = await onAlias("/admin/clients", {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(404);
  });

  it("takes a DPoP proof for the alias URL there, and refuses one for the issuer's", async () => {
    const client = await registerClient({ grant_types: ["client_credentials"], redirect_uris: [] });
    const key = await DpopKey.generate();
    const request = async (htu: string) =>
      onAlias("/token", {
        params: { grant_type: "client_credentials" },
        headers: {
          Authorization: basic(client.client_id, client.client_secret as string),
          DPoP: await key.proof("POST", htu, { nonce: await serverNonce(client, key) }),
        },
      });
    const wrong = await request(`${ISSUER}/token`);
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error).toBe("invalid_dpop_proof");
    const right = await request(`${ALIAS}/token`);
    expect(right.status, await right.clone().text()).toBe(200);
    expect((await json(right)).token_type).toBe("DPoP");
  });

  it("takes a client assertion whose audience is the alias token endpoint", async () => {
    const key = await clientKey("ES256");
    const client = await registerClient({
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [key.publicJwk] },
      grant_types: ["client_credentials"],
      redirect_uris: [],
    });
    const assertion = await signWithKey(key, client.client_id, { aud: `${ALIAS}/token` });
    const res = await onAlias("/token", {
      params: { grant_type: "client_credentials", ...assertionParams(assertion) },
    });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it.each([
    ["with a path", `${ALIAS}/mtls`, {}],
    ["with plain http", "http://mtls.auth.example.test", {}],
    ["on the issuer's own host", ISSUER, {}],
    ["on the issuer's own host, another port", `${ISSUER}:8443`, {}],
    ["without ISSUER", ALIAS, { ISSUER: "" }],
    ["that is no URL", "mtls.auth.example.test", {}],
  ])("refuses to run with an alias origin %s (500, naming the var)", async (_, origin, extra) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await fetchWith(
      { MTLS_ENDPOINT_ORIGIN: origin, ...extra },
      `${ISSUER}/.well-known/openid-configuration`,
    );
    expect(res.status).toBe(500);
    expect(await json(res)).toMatchObject({
      error: "server_error",
      error_description: expect.stringContaining("MTLS_ENDPOINT_ORIGIN"),
    });
  });
});
