import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { assertionParams, clientKey, signWithKey } from "../support/assertions";
import {
  introspect,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call, ISSUER, json, postForm } from "../support/http";

/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client gets an
 * access token for itself (RFC 9068 §2.2: sub is the client_id), with no
 * refresh token (§4.4.3) and no ID token, since no user is involved.
 */

const machineClient = (overrides: Record<string, unknown> = {}) =>
  registerClient({
    grant_types: ["client_credentials"],
    redirect_uris: [],
    scope: "openid profile api:read api:write",
    ...overrides,
  });

const clientCredentials = (client: RegisteredClient, params: Record<string, string> = {}) =>
  tokenRequest(client, { grant_type: "client_credentials", ...params });

async function publishedKeys() {
  const res = await call("/jwks");
  expect(res.status).toBe(200);
  return createLocalJWKSet(await json<JSONWebKeySet>(res));
}

describe("client_credentials (RFC 6749 §4.4)", () => {
  it("issues an RFC 9068 access token that verifies against the published JWKS", async () => {
    const client = await machineClient();
    const res = await clientCredentials(client);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await json<Record<string, unknown>>(res);
    const token = body.access_token as string;

    const { payload, protectedHeader } = await jwtVerify(token, await publishedKeys(), {
      issuer: ISSUER,
      audience: ISSUER,
      typ: "at+jwt",
    });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({ sub: client.client_id, client_id: client.client_id });
    expect(payload.jti).toEqual(expect.any(String));
    // A client's token belongs to no grant: revoking a user's grants cannot reach it.
    expect(payload).not.toHaveProperty("fid");
    expect(payload).not.toHaveProperty("auth_time");
  });

  it("answers with a Bearer token and no refresh token or ID token (§4.4.3)", async () => {
    const client = await machineClient();
    const body = await json(await clientCredentials(client));
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(900);
    expect(body).not.toHaveProperty("refresh_token");
    expect(body).not.toHaveProperty("id_token");
  });

  it("grants the client's non-user scopes when none is asked for", async () => {
    const client = await machineClient();
    const body = await json(await clientCredentials(client));
    expect(body.scope).toBe("api:read api:write");
    const { payload } = await jwtVerify(body.access_token as string, await publishedKeys());
    expect(payload.scope).toBe("api:read api:write");
  });

  it("grants a requested subset of the client's scopes", async () => {
    const client = await machineClient();
    const body = await json(await clientCredentials(client, { scope: "api:write" }));
    expect(body.scope).toBe("api:write");
  });

  it.each(["openid", "profile", "api:read openid", "offline_access"])(
    "refuses a user scope asked for explicitly (%s) with invalid_scope",
    async (scope) => {
      const client = await machineClient({ scope: "openid profile offline_access api:read" });
      const res = await clientCredentials(client, { scope });
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("invalid_scope");
    },
  );

  it("refuses a scope the client is not registered for, and a malformed scope", async () => {
    const client = await machineClient({ scope: "api:read" });
    for (const scope of ["api:write", "api:read\u0001"]) {
      const res = await clientCredentials(client, { scope });
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("invalid_scope");
    }
  });

  it("does not echo a refused scope value in the error description (it may be a token pasted by mistake)", async () => {
    const client = await machineClient({ scope: "api:read" });
    const pasted = "rt1.0123456789abcdef0123456789abcdef";
    const res = await clientCredentials(client, { scope: `api:read ${pasted}` });
    expect(res.status).toBe(400);
    const body = await json<{ error: string; error_description: string }>(res);
    expect(body.error).toBe("invalid_scope");
    expect(body.error_description).not.toContain("0123456789abcdef");
  });

  it("refuses a confidential client that is not registered for the grant (unauthorized_client)", async () => {
    const client = await registerClient({ grant_types: ["authorization_code"] });
    const res = await clientCredentials(client);
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("unauthorized_client");
  });

  it("is closed to public clients: refused at registration and at the token endpoint", async () => {
    const refused = await adminCall("POST", "/admin/clients", {
      client_name: "Public machine",
      token_endpoint_auth_method: "none",
      grant_types: ["client_credentials"],
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error_description).toMatch(/^grant_types: /);

    const client = await registerPublicClient();
    const res = await postForm("/token", {
      grant_type: "client_credentials",
      client_id: client.client_id,
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("unauthorized_client");
  });

  it("requires client authentication (401 invalid_client without a valid secret)", async () => {
    const client = await machineClient();
    const res = await clientCredentials({ ...client, client_secret: "not-the-secret" });
    expect(res.status).toBe(401);
    expect((await json(res)).error).toBe("invalid_client");
    const anonymous = await postForm("/token", { grant_type: "client_credentials" });
    expect(anonymous.status).toBe(401);
  });

  it("works with private_key_jwt authentication", async () => {
    const key = await clientKey("ES256");
    const client = await machineClient({
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [key.publicJwk] },
    });
    const res = await postForm("/token", {
      grant_type: "client_credentials",
      ...assertionParams(await signWithKey(key, client.client_id)),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const { payload } = await jwtVerify(
      (await json(res)).access_token as string,
      await publishedKeys(),
    );
    expect(payload.sub).toBe(client.client_id);
  });

  it("issues tokens the client can introspect and that are signed with a published kid", async () => {
    const client = await machineClient();
    const body = await json(await clientCredentials(client));
    const token = body.access_token as string;
    const jwks = await json<JSONWebKeySet>(await call("/jwks"));
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(token).kid);
    expect(await introspect(client, token)).toMatchObject({
      active: true,
      client_id: client.client_id,
      sub: client.client_id,
      scope: "api:read api:write",
    });
  });

  it("stops issuing tokens once the client is deleted", async () => {
    const client = await machineClient();
    expect((await clientCredentials(client)).status).toBe(200);
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    const res = await clientCredentials(client);
    expect(res.status).toBe(401);
    expect((await json(res)).error).toBe("invalid_client");
  });
});
