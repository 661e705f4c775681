import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findClient } from "../../src/clients/registry";
import { providerConfig } from "../../src/config";
import { issueAccessToken } from "../../src/tokens/issue";
import { authorizationCode, redeemCode, userinfo } from "../support/authorize";
import {
  type RegisteredClient,
  registerClient,
  registerUser,
  revokeRequest,
  type TestUser,
} from "../support/fixtures";
import { adminCall, call, formBody, ISSUER, json } from "../support/http";

/**
 * The UserInfo endpoint (OIDC Core §5.3) as an RFC 6750 protected resource:
 * the token comes in the Authorization header or a form body, never the
 * query; each failure is a 401/403 with a WWW-Authenticate challenge; the
 * claims released follow the token's scopes (OIDC Core §5.4).
 */

async function accessToken(
  scope: string,
  userFields: Record<string, unknown> = {},
): Promise<{ token: string; user: TestUser; client: RegisteredClient }> {
  const client = await registerClient({ consent: "implicit" });
  const user = await registerUser(userFields);
  const { code, verifier } = await authorizationCode(client, user, { scope });
  const res = await redeemCode(client, code, verifier);
  expect(res.status).toBe(200);
  return { token: (await json<{ access_token: string }>(res)).access_token, user, client };
}

const challengeOf = (res: Response) => res.headers.get("www-authenticate") ?? "";

describe("presenting the access token (RFC 6750 §2)", () => {
  it("GET with the Authorization header returns the claims as JSON, never cached", async () => {
    const { token, user } = await accessToken("openid");
    const res = await userinfo(token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ sub: user.id });
  });

  it("POST with the Authorization header works the same", async () => {
    const { token, user } = await accessToken("openid");
    const res = await call("/userinfo", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: user.id });
  });

  it("POST with the token in a form body works too (§2.2)", async () => {
    const { token, user } = await accessToken("openid");
    const res = await call("/userinfo", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ access_token: token }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: user.id });
  });

  it("a token in the query string is not accepted (§2.3 is not supported)", async () => {
    const { token } = await accessToken("openid");
    const res = await call(`/userinfo?access_token=${token}`);
    expect(res.status).toBe(401);
  });

  it("a token sent both in the header and in the body is invalid_request (§2)", async () => {
    const { token } = await accessToken("openid");
    const res = await call("/userinfo", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: formBody({ access_token: token }),
    });
    expect(res.status).toBe(400);
    expect(challengeOf(res)).toContain('error="invalid_request"');
  });
});

describe("refusals carry a WWW-Authenticate challenge (RFC 6750 §3)", () => {
  it("no token at all: 401 with bare Bearer and DPoP challenges, no error code (§3.1; RFC 9449 §7.1)", async () => {
    const res = await call("/userinfo");
    expect(res.status).toBe(401);
    const challenge = challengeOf(res);
    expect(challenge).toMatch(/^Bearer realm="[^"]+", DPoP algs="ES256[A-Za-z0-9 ]*"$/);
    expect(challenge).not.toContain("error=");
  });

  it("a token that is not one of ours: 401 invalid_token", async () => {
    for (const token of ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a.b.c"]) {
      const res = await userinfo(token);
      expect(res.status).toBe(401);
      expect(challengeOf(res)).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
      expect((await json(res)).error).toBe("invalid_token");
    }
  });

  it("a token with an altered payload: 401 invalid_token", async () => {
    const { token, user } = await accessToken("openid");
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(atob((payload as string).replace(/-/g, "+").replace(/_/g, "/")));
    const forged = btoa(JSON.stringify({ ...claims, scope: "openid profile email" }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const res = await userinfo(`${header}.${forged}.${signature}`);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
    expect(claims.sub).toBe(user.id);
  });

  it("an ID token is not an access token: 401 invalid_token", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { code, verifier } = await authorizationCode(client, user);
    const { id_token } = await json<{ id_token: string }>(await redeemCode(client, code, verifier));
    const res = await userinfo(id_token);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
  });

  it("a token for another audience (a registered API, RFC 8707): 401 invalid_token, whatever its scope (RFC 9068 §4)", async () => {
    const { user, client } = await accessToken("openid profile");
    // Minted by the service's own code and key, as a token for an API would be.
    const config = providerConfig(env, ISSUER);
    const record = await findClient(env, client.client_id);
    if (!record) throw new Error("the client is registered");
    const now = Math.floor(Date.now() / 1000);
    const mint = (audience: string) =>
      issueAccessToken(env, config, {
        clientId: record.client_id,
        sub: user.id,
        scope: ["openid", "profile"],
        audience,
        iat: now,
        exp: now + 300,
      });
    const forApi = await userinfo((await mint("https://calendar.example.test/")).token);
    expect(forApi.status).toBe(401);
    expect(challengeOf(forApi)).toContain('error="invalid_token"');
    expect((await userinfo((await mint(config.defaultAudience)).token)).status).toBe(200);
  });

  it("an expired token: 401 invalid_token", async () => {
    const { user, client } = await accessToken("openid");
    // Minted by the service's own code and key, with its lifetime already over.
    const config = providerConfig(env, ISSUER);
    const record = await findClient(env, client.client_id);
    if (!record) throw new Error("the client is registered");
    const now = Math.floor(Date.now() / 1000);
    const expired = await issueAccessToken(env, config, {
      clientId: record.client_id,
      sub: user.id,
      scope: ["openid", "profile"],
      audience: config.defaultAudience,
      iat: now - 1000,
      exp: now - 100,
    });
    const res = await userinfo(expired.token);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
  });

  it("a revoked token: 401 invalid_token", async () => {
    const { token, client } = await accessToken("openid");
    expect((await userinfo(token)).status).toBe(200);
    expect((await revokeRequest(client, { token })).status).toBe(200);
    const res = await userinfo(token);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
  });

  it("a token of a user who has since been blocked: 401 invalid_token", async () => {
    const { token, user } = await accessToken("openid profile");
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);
    const res = await userinfo(token);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
  });

  it("a token granted without openid: 403 insufficient_scope", async () => {
    const { token } = await accessToken("profile api:read");
    const res = await userinfo(token);
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope"/);
    expect((await json(res)).error).toBe("insufficient_scope");
  });
});

describe("the claims follow the token's scopes (OIDC Core §5.4)", () => {
  const profile = { name: "Ada Lovelace", email: "ada@example.test", email_verified: true };

  it("openid alone: sub only", async () => {
    const { token, user } = await accessToken("openid", profile);
    expect(await (await userinfo(token)).json()).toEqual({ sub: user.id });
  });

  it("profile: name and preferred_username (and updated_at), no email", async () => {
    const { token, user } = await accessToken("openid profile", profile);
    const claims = await json(await userinfo(token));
    expect(claims).toMatchObject({
      sub: user.id,
      name: "Ada Lovelace",
      preferred_username: user.username,
    });
    expect(typeof claims.updated_at).toBe("number");
    expect(claims).not.toHaveProperty("email");
    expect(claims).not.toHaveProperty("email_verified");
  });

  it("email: email and email_verified, no profile claims", async () => {
    const { token, user } = await accessToken("openid email", profile);
    expect(await (await userinfo(token)).json()).toEqual({
      sub: user.id,
      email: "ada@example.test",
      email_verified: true,
    });
  });

  it("profile and email together; claims the user does not have are left out", async () => {
    const { token, user } = await accessToken("openid profile email", {
      name: undefined,
      email: undefined,
    });
    const claims = await json(await userinfo(token));
    expect(claims).toMatchObject({ sub: user.id, preferred_username: user.username });
    expect(claims).not.toHaveProperty("name");
    expect(claims).not.toHaveProperty("email");
  });

  it("reflects the account as it is now, not as it was when the token was issued", async () => {
    const { token, user } = await accessToken("openid profile", profile);
    const patched = await adminCall("PATCH", `/admin/users/${user.id}`, { name: "Ada King" });
    expect(patched.status).toBe(200);
    expect((await json(await userinfo(token))).name).toBe("Ada King");
  });
});
