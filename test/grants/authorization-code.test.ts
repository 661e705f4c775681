import { env } from "cloudflare:workers";
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
} from "jose";
import { describe, expect, it } from "vitest";
import type { ClientRecord } from "../../src/clients/model";
import { findClient } from "../../src/clients/registry";
import { providerConfig } from "../../src/config";
import { issueAuthorizationCode } from "../../src/grants/authorization-code";
import {
  authorizationCode,
  expectedAtHash,
  expectTokenError,
  redeemCode,
  userinfo,
} from "../support/authorize";
import { pkce } from "../support/browser";
import {
  introspect,
  type RegisteredClient,
  registerClient,
  registerPublicClient,
  registerUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call, ISSUER, json } from "../support/http";
import { familyIdOf, refresh, rewriteFamily, storedFamily } from "../support/refresh";

/**
 * The authorization code grant at the token endpoint (RFC 6749 §4.1.3,
 * RFC 7636 §4.6, OIDC Core §3.1.3). The code names its family's Durable
 * Object, which redeems it once, for its own client, redirect URI and PKCE
 * challenge, within its lifetime; a second use revokes what the first issued.
 */

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

async function redeemOk(
  client: RegisteredClient,
  code: string,
  verifier: string | undefined,
): Promise<TokenResponse> {
  const res = await redeemCode(client, code, verifier);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<TokenResponse>(res);
}

async function setup(clientFields: Record<string, unknown> = {}) {
  const client = await registerClient({ consent: "implicit", ...clientFields });
  const user = await registerUser();
  return { client, user };
}

describe("redeeming a code (RFC 6749 §4.1.3, OIDC Core §3.1.3.3)", () => {
  it("issues a Bearer access token, a refresh token and an ID token, never cached", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    const res = await redeemCode(client, code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const tokens = await json<TokenResponse>(res);
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.expires_in).toBe(900);
    expect(tokens.scope).toBe("openid profile offline_access");
    expect(tokens.refresh_token).toMatch(/^rt1\./);
    expect(tokens.id_token).toBeTruthy();
  });

  it("signs ID tokens with the client's id_token_signed_response_alg: ES256 on request, RS256 by default", async () => {
    const jwks = createLocalJWKSet(await (await call("/jwks")).json<JSONWebKeySet>());
    for (const [alg, fields] of [
      ["ES256", { id_token_signed_response_alg: "ES256" }],
      ["RS256", {}],
    ] as const) {
      const client = await registerClient({ consent: "implicit", ...fields });
      expect(client).toMatchObject({ id_token_signed_response_alg: alg });
      const user = await registerUser();
      const { code, verifier } = await authorizationCode(client, user);
      const tokens = await redeemOk(client, code, verifier);
      const { protectedHeader } = await jwtVerify(tokens.id_token as string, jwks, {
        issuer: ISSUER,
        audience: client.client_id,
        algorithms: [alg],
      });
      expect(protectedHeader.alg).toBe(alg);
      // Access tokens stay ES256 whatever the ID token's algorithm.
      expect(decodeProtectedHeader(tokens.access_token).alg).toBe("ES256");
    }
  });

  it("keeps ES256 ID tokens for a client registered before the setting existed (no field stored)", async () => {
    const client = await registerClient({ consent: "implicit" });
    const key = `client:${client.client_id}`;
    const stored = (await env.CLIENTS.get<Record<string, unknown>>(key, "json")) as Record<
      string,
      unknown
    >;
    delete stored.id_token_signed_response_alg;
    await env.CLIENTS.put(key, JSON.stringify(stored));
    const user = await registerUser();
    const { code, verifier } = await authorizationCode(client, user);
    const tokens = await redeemOk(client, code, verifier);
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe("ES256");
  });

  it("signs an ID token with iss, sub, aud, exp, iat, auth_time, nonce and a correct at_hash", async () => {
    const { client, user } = await setup();
    const nonce = "n-0S6_WzA2Mj";
    const signInStarted = Math.floor(Date.now() / 1000);
    const { code, verifier } = await authorizationCode(client, user, { nonce });
    const tokens = await redeemOk(client, code, verifier);

    const jwks = await (await call("/jwks")).json<JSONWebKeySet>();
    const { payload, protectedHeader } = await jwtVerify(
      tokens.id_token as string,
      createLocalJWKSet(jwks),
      // OIDC Core §15.1: RS256, the default for a client that names no algorithm.
      { issuer: ISSUER, audience: client.client_id, algorithms: ["RS256"] },
    );
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload.sub).toBe(user.id);
    expect(payload.azp).toBe(client.client_id);
    expect(payload.nonce).toBe(nonce);
    expect(payload.iat).toBeGreaterThanOrEqual(signInStarted);
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    expect(payload.auth_time).toBeGreaterThanOrEqual(signInStarted);
    expect(payload.auth_time).toBeLessThanOrEqual(payload.iat as number);
    // OIDC Core §3.1.3.6, computed here from the access token we were given.
    expect(payload.at_hash).toBe(await expectedAtHash(tokens.access_token));
  });

  it("puts no nonce in the ID token when the request had none", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    const idToken = decodeJwt((await redeemOk(client, code, verifier)).id_token as string);
    expect(idToken).not.toHaveProperty("nonce");
  });

  it("issues no ID token without the openid scope", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user, { scope: "api:read" });
    const tokens = await redeemOk(client, code, verifier);
    expect(tokens.scope).toBe("api:read");
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.access_token).toBeTruthy();
  });

  it("issues an RFC 9068 access token for the user and the client", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    const tokens = await redeemOk(client, code, verifier);
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe("at+jwt");
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: ISSUER,
      sub: user.id,
      client_id: client.client_id,
      scope: "openid profile offline_access",
    });
  });

  it("serves a public client that authenticates with its client_id and PKCE", async () => {
    const client = await registerPublicClient({ consent: "implicit" });
    const user = await registerUser();
    const { code, verifier } = await authorizationCode(client, user);
    const tokens = await redeemOk(client, code, verifier);
    expect(tokens.access_token).toBeTruthy();
  });
});

describe("PKCE (RFC 7636 §4.6)", () => {
  it("refuses a wrong code_verifier with invalid_grant", async () => {
    const { client, user } = await setup();
    const { code } = await authorizationCode(client, user);
    const { verifier: wrong } = await pkce();
    const body = await expectTokenError(await redeemCode(client, code, wrong), "invalid_grant");
    expect(body.error_description).toMatch(/code_verifier/);
  });

  it("refuses a missing code_verifier when the request had a challenge", async () => {
    const { client, user } = await setup();
    const { code } = await authorizationCode(client, user);
    await expectTokenError(await redeemCode(client, code, undefined), "invalid_grant");
  });

  it("refuses a code_verifier when the request had no challenge (downgrade, RFC 9700 §2.1.1)", async () => {
    const { client, user } = await setup();
    const { code } = await authorizationCode(client, user, { challenge: undefined });
    const { verifier } = await pkce();
    await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
  });

  it("lets a confidential client that used no PKCE redeem without a verifier", async () => {
    const { client, user } = await setup();
    const { code } = await authorizationCode(client, user, { challenge: undefined });
    const tokens = await redeemOk(client, code, undefined);
    expect(tokens.access_token).toBeTruthy();
  });

  it("refuses a code_verifier that is not 43 to 128 unreserved characters as invalid_request", async () => {
    const { client, user } = await setup();
    const { code } = await authorizationCode(client, user);
    for (const bad of ["too-short", "x".repeat(129), `${"a".repeat(42)}!`]) {
      await expectTokenError(await redeemCode(client, code, bad), "invalid_request");
    }
  });
});

describe("a code is used once (RFC 6749 §4.1.2, §10.5)", () => {
  it("a second use is invalid_grant and revokes the tokens the first use issued", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    const tokens = await redeemOk(client, code, verifier);
    expect(await introspect(client, tokens.access_token)).toMatchObject({ active: true });

    const body = await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    expect(body.error_description).toMatch(/already used/);

    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(client, tokens.refresh_token as string)).toEqual({ active: false });
    await expectTokenError(await refresh(client, tokens.refresh_token), "invalid_grant");
    expect((await userinfo(tokens.access_token)).status).toBe(401);
  });

  it("a replay revokes the access token even when the grant has no refresh token", async () => {
    const { client, user } = await setup({ refresh_token: { issue: false } });
    const { code, verifier } = await authorizationCode(client, user);
    const tokens = await redeemOk(client, code, verifier);
    expect(tokens.refresh_token).toBeUndefined();
    await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
  });

  it("stays refused on every later use", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    await redeemOk(client, code, verifier);
    await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    expect((await storedFamily(familyIdOf(code)))?.status).toBe("revoked");
  });

  it("a replay does not touch the user's other grants", async () => {
    const { client, user } = await setup();
    const first = await authorizationCode(client, user);
    const second = await authorizationCode(client, user, { browser: first.browser });
    const firstTokens = await redeemOk(client, first.code, first.verifier);
    const secondTokens = await redeemOk(client, second.code, second.verifier);
    await expectTokenError(await redeemCode(client, first.code, first.verifier), "invalid_grant");
    expect(await introspect(client, firstTokens.access_token)).toEqual({ active: false });
    expect(await introspect(client, secondTokens.access_token)).toMatchObject({ active: true });
  });
});

describe("a code is redeemed only while its user may sign in", () => {
  it("a code issued before the user was blocked is refused after", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);
    await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
  });
});

describe("a code is issued only while the login session that asked for it stands", () => {
  it("issues none for a session a password change ended, and leaves no grant in the user's index", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const signedIn = await env.USER.getByName(user.id).checkPassword(user.password);
    if (!signedIn.ok) throw new Error("the test user cannot sign in");
    const sid = await env.USER.getByName(user.id).openSession(
      signedIn.sessionVersion,
      1,
      Date.now() + 3_600_000,
      "test",
    );
    const change = await adminCall("PUT", `/admin/users/${user.id}/password`, {
      password: "an entirely new passphrase",
    });
    expect(change.status).toBe(204);

    const { challenge } = await pkce();
    const code = await issueAuthorizationCode(env, providerConfig(env, ISSUER), {
      client: (await findClient(env, client.client_id)) as ClientRecord,
      sub: user.id,
      session: { sid: sid as string, version: signedIn.sessionVersion },
      sessionEndsAt: Date.now() + 3_600_000,
      authTime: 1,
      scope: ["openid"],
      redirectUri: client.redirect_uris[0] as string,
      codeChallenge: challenge,
    });
    expect(code).toBeUndefined();
    const grants = await json<{ grants: unknown[] }>(
      await adminCall("GET", `/admin/users/${user.id}/grants`),
    );
    expect(grants.grants).toEqual([]);
  });
});

describe("a code expires (RFC 6749 §4.1.2: at most 10 minutes; here at most 60 s)", () => {
  it("is stored with an expiry at most 60 seconds after it was issued", async () => {
    const { client, user } = await setup();
    const before = Date.now();
    const { code } = await authorizationCode(client, user);
    const state = await storedFamily(familyIdOf(code));
    expect(state?.status).toBe("pending");
    if (state?.status !== "pending") return;
    expect(state.code.expiresAt).toBeGreaterThan(before);
    expect(state.code.expiresAt - state.createdAt).toBeLessThanOrEqual(60_000);
  });

  it("an expired code is invalid_grant", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    // Test setup: move the stored expiry into the past instead of waiting 60 s.
    await rewriteFamily(familyIdOf(code), (state) =>
      state.status === "pending"
        ? { ...state, code: { ...state.code, expiresAt: Date.now() - 1 } }
        : state,
    );
    const body = await expectTokenError(await redeemCode(client, code, verifier), "invalid_grant");
    expect(body.error_description).toMatch(/expired/);
  });
});

describe("a code is bound to its client and redirect URI (RFC 6749 §4.1.3)", () => {
  it("another client cannot redeem it, even with the right verifier", async () => {
    const { client, user } = await setup();
    const thief = await registerClient();
    const { code, verifier } = await authorizationCode(client, user);
    await expectTokenError(await redeemCode(thief, code, verifier), "invalid_grant");
    // The attempt did not burn the code for the client it was issued to.
    expect((await redeemOk(client, code, verifier)).access_token).toBeTruthy();
  });

  it("a public client cannot redeem a confidential client's code by naming itself", async () => {
    const { client, user } = await setup();
    const thief = await registerPublicClient();
    const { code, verifier } = await authorizationCode(client, user);
    await expectTokenError(await redeemCode(thief, code, verifier), "invalid_grant");
  });

  it("another redirect_uri, even one the client registered, is refused", async () => {
    const second = "https://app.example.test/other-callback";
    const { client, user } = await setup({
      redirect_uris: ["https://app.example.test/callback", second],
    });
    const { code, verifier } = await authorizationCode(client, user);
    await expectTokenError(await redeemCode(client, code, verifier, second), "invalid_grant");
    await expectTokenError(
      await redeemCode(client, code, verifier, "https://attacker.example/callback"),
      "invalid_grant",
    );
  });

  it("a request without redirect_uri is invalid_request", async () => {
    const { client, user } = await setup();
    const { code, verifier } = await authorizationCode(client, user);
    const res = await tokenRequest(client, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
    });
    await expectTokenError(res, "invalid_request");
  });
});

describe("what is not one of our codes is invalid_grant", () => {
  it("refuses a code with an altered character, a refresh token, and garbage", async () => {
    const { client, user } = await setup();
    const other = await authorizationCode(client, user);
    const { refresh_token } = await redeemOk(client, other.code, other.verifier);
    const { code, verifier } = await authorizationCode(client, user);
    const i = code.length - 10;
    const altered = `${code.slice(0, i)}${code[i] === "A" ? "B" : "A"}${code.slice(i + 1)}`;
    for (const bad of [
      altered,
      refresh_token as string,
      "not-a-code",
      `ac1.${"0".repeat(64)}.AAAA`,
    ]) {
      const body = await expectTokenError(await redeemCode(client, bad, verifier), "invalid_grant");
      expect(body.error_description).not.toContain(bad);
    }
    // None of these touched the genuine code.
    expect((await redeemOk(client, code, verifier)).access_token).toBeTruthy();
  });
});
