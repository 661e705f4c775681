import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DpopKey, serverNonce, TOKEN_URL } from "../support/dpop";
import { clientCredentialsGrant, registerClient, registerUser } from "../support/fixtures";
import { adminCall, basic, call, json, postForm } from "../support/http";
import {
  CERTIFICATES,
  mtlsPost,
  registerSelfSignedClient,
  registerTlsClient,
  x5tOf,
} from "../support/mtls";
import { grantWithRefresh } from "../support/refresh";
import {
  captureLogs,
  countingDurableObjects,
  expectActive,
  expectInactive,
  INACTIVE,
  introspectWith,
  issueGrant,
  nowSeconds,
  postFormWith,
  refreshed,
  refreshRequest,
  revoked,
  signedWithServerKey,
  signedWithStrangerKey,
  unreadableKv,
} from "../support/revocation";

const claimsOf = (grant: { tokens: { access_token: string } }) =>
  decodeJwt(grant.tokens.access_token);

describe("POST /introspect (RFC 7662)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe("§2.2: a live token is active, with its claims", () => {
    it("describes an access token: scope, client_id, sub, exp, iat, token_type, iss, aud, jti", async () => {
      const grant = await issueGrant({ scope: "openid api:read api:write" });
      const claims = decodeJwt(grant.tokens.access_token);

      const answer = await expectActive(grant.client, grant.tokens.access_token);

      expect(answer).toStrictEqual({
        active: true,
        scope: "openid api:read api:write",
        client_id: grant.client.client_id,
        sub: grant.user.id,
        exp: claims.exp,
        iat: claims.iat,
        token_type: "Bearer",
        iss: env.ISSUER,
        aud: claims.aud,
        jti: claims.jti,
        auth_time: claims.auth_time,
      });
      expect(answer.exp).toBeGreaterThan(nowSeconds());
    });

    it("describes a refresh token: scope, client_id, sub, exp, iat, token_type, iss", async () => {
      const before = nowSeconds();
      // With offline_access, so that its lifetimes alone decide exp (not its login session's end).
      const grant = await issueGrant({ scope: "openid offline_access api:read" });

      const answer = await expectActive(grant.client, grant.refreshToken);

      expect(answer).toStrictEqual({
        active: true,
        scope: "openid offline_access api:read",
        client_id: grant.client.client_id,
        sub: grant.user.id,
        exp: expect.any(Number),
        iat: expect.any(Number),
        token_type: "refresh_token",
        iss: env.ISSUER,
      });
      // Defaults: 30 days absolute, 7 days idle, so a new grant expires after 7 days.
      expect(answer.iat).toBeGreaterThanOrEqual(before - 1);
      expect(answer.iat).toBeLessThanOrEqual(nowSeconds());
      expect(answer.exp).toBeGreaterThanOrEqual(before + 7 * 86_400 - 1);
      expect(answer.exp).toBeLessThanOrEqual(nowSeconds() + 7 * 86_400);
    });

    it("describes only the current refresh token of a grant: a rotated-out one is inactive", async () => {
      const grant = await issueGrant();
      const next = await refreshed(grant.client, grant.refreshToken);

      await expectInactive(grant.client, grant.refreshToken);
      await expectActive(grant.client, next.refresh_token as string);
      // Asking about the old token is not a use of it: the grant was not revoked.
      await refreshed(grant.client, next.refresh_token as string);
    });

    it("describes a client_credentials token, whose subject is the client", async () => {
      const { client, accessToken: access_token } = await clientCredentialsGrant();
      expect(await expectActive(client, access_token)).toMatchObject({
        sub: client.client_id,
        client_id: client.client_id,
        scope: "api:read",
        token_type: "Bearer",
      });
    });
  });

  describe('§2.2: anything else is exactly {"active": false}', () => {
    it("for a revoked access token, while its sibling stays active", async () => {
      const grant = await issueGrant();
      const second = await refreshed(grant.client, grant.refreshToken);
      await revoked(grant.client, second.access_token);
      await expectInactive(grant.client, second.access_token);
      await expectActive(grant.client, grant.tokens.access_token);
    });

    it("for every token of a family revoked with /revoke", async () => {
      const grant = await issueGrant();
      const second = await refreshed(grant.client, grant.refreshToken);
      const third = await refreshed(grant.client, second.refresh_token as string);
      await revoked(grant.client, third.refresh_token as string);
      for (const token of [
        grant.tokens.access_token,
        second.access_token,
        third.access_token,
        third.refresh_token as string,
      ]) {
        await expectInactive(grant.client, token);
      }
    });

    it("for every token of a family revoked by refresh-token reuse detection (RFC 9700 §4.14.2)", async () => {
      const grant = await issueGrant({ clientFields: { refresh_token: { grace_seconds: 0 } } });
      const second = await refreshed(grant.client, grant.refreshToken);
      await expectActive(grant.client, second.access_token);

      const replay = await refreshRequest(grant.client, grant.refreshToken);
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: "invalid_grant" });

      for (const token of [
        grant.tokens.access_token,
        second.access_token,
        second.refresh_token as string,
      ]) {
        await expectInactive(grant.client, token);
      }
    });

    it("for an expired access token (signed with our own key, so expiry is the only fault)", async () => {
      const grant = await issueGrant();
      const claims = decodeJwt(grant.tokens.access_token);
      const now = nowSeconds();
      const fresh = await signedWithServerKey({ ...claims, jti: "fresh-control" });
      const expired = await signedWithServerKey({
        ...claims,
        jti: "expired-one",
        iat: now - 120,
        exp: now - 60,
      });
      // The control proves the crafted token is otherwise acceptable.
      await expectActive(grant.client, fresh);
      await expectInactive(grant.client, expired);
    });

    it("for a token signed with our own key that claims to live too long, or to begin in the future", async () => {
      const grant = await issueGrant();
      const claims = decodeJwt(grant.tokens.access_token);
      const now = nowSeconds();
      const fresh = await signedWithServerKey({ ...claims, jti: "fresh-control" });
      const forever = await signedWithServerKey({
        ...claims,
        jti: "forever",
        iat: now,
        exp: now + 365 * 86_400, // a year: more than any access token may live
      });
      const later = await signedWithServerKey({
        ...claims,
        jti: "later",
        iat: now + 3600,
        exp: now + 3600 + 900,
      });
      await expectActive(grant.client, fresh);
      await expectInactive(grant.client, forever);
      await expectInactive(grant.client, later);
    });

    it("for a JWT signed by a key we never issued, under our kid or another one", async () => {
      const grant = await issueGrant();
      const claims = decodeJwt(grant.tokens.access_token);
      const { kid } = decodeProtectedHeader(grant.tokens.access_token);
      await expectInactive(grant.client, await signedWithStrangerKey(claims, kid as string));
      await expectInactive(grant.client, await signedWithStrangerKey(claims, "unknown-kid"));
      await expectActive(grant.client, grant.tokens.access_token);
    });

    it("for JWTs of ours that are not access tokens or not from us (typ, iss, claims)", async () => {
      const grant = await issueGrant();
      const claims = decodeJwt(grant.tokens.access_token);
      const { scope: _scope, ...withoutScope } = claims;
      for (const token of [
        grant.tokens.id_token as string, // typ JWT: an ID token is not an access token
        await signedWithServerKey(claims, { typ: "JWT" }),
        await signedWithServerKey({ ...claims, iss: "https://elsewhere.example" }),
        await signedWithServerKey(withoutScope),
        await signedWithServerKey({ ...claims, client_id: 42 }),
      ]) {
        await expectInactive(grant.client, token);
      }
    });

    it("for malformed and forged tokens", async () => {
      const grant = await issueGrant();
      const [, familyId, payload] = grant.refreshToken.split(".") as [string, string, string];
      const [h, p, s] = grant.tokens.access_token.split(".") as [string, string, string];
      for (const token of [
        "garbage",
        "a.b.c",
        `${h}.${p}`,
        `${h}.${p}.${s.slice(0, -4)}AAAA`,
        "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.",
        `rt1.${familyId}.${payload.slice(0, -3)}AAA`,
        `rt1.${"f".repeat(64)}.${payload}`,
        `ac1.${familyId}.${payload}`,
        "x".repeat(10_000),
      ]) {
        await expectInactive(grant.client, token);
      }
    });
  });

  describe("§2.1 and §4: who may ask about which token", () => {
    it("shows another client's tokens as inactive", async () => {
      const grant = await issueGrant();
      const other = await registerClient({ consent: "implicit" });
      await expectInactive(other, grant.tokens.access_token);
      await expectInactive(other, grant.refreshToken);
      await expectActive(grant.client, grant.tokens.access_token);
    });

    it("shows a resource server every client's live access tokens, and no refresh token", async () => {
      const grant = await issueGrant();
      const resourceServer = await registerClient({ resource_server: true });
      expect(await expectActive(resourceServer, grant.tokens.access_token)).toMatchObject({
        client_id: grant.client.client_id,
        sub: grant.user.id,
      });
      // A refresh token's standing is its client's business only.
      await expectInactive(resourceServer, grant.refreshToken);
      expect(await expectActive(grant.client, grant.refreshToken)).toMatchObject({
        client_id: grant.client.client_id,
        token_type: "refresh_token",
      });
      await revoked(grant.client, grant.refreshToken);
      await expectInactive(resourceServer, grant.tokens.access_token);
      await expectInactive(resourceServer, grant.refreshToken);
    });

    it("shows a resource server the tokens of a deleted client as inactive", async () => {
      const grant = await issueGrant();
      const resourceServer = await registerClient({ resource_server: true });
      await expectActive(resourceServer, grant.tokens.access_token);
      expect((await adminCall("DELETE", `/admin/clients/${grant.client.client_id}`)).status).toBe(
        204,
      );
      await expectInactive(resourceServer, grant.tokens.access_token);
      await expectInactive(resourceServer, grant.refreshToken);
    });

    it("refuses a public client, which has no credential (RFC 7662 §2.1: 401 invalid_client)", async () => {
      const grant = await grantWithRefresh({ public: true });
      for (const token of [grant.refreshToken, grant.tokens.access_token, "not-a-token"]) {
        const res = await postForm("/introspect", { client_id: grant.client.client_id, token });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: "invalid_client" });
      }
    });

    it("requires the caller to authenticate (401 invalid_client)", async () => {
      const grant = await issueGrant();
      const anonymous = await postForm("/introspect", { token: grant.tokens.access_token });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ error: "invalid_client" });
      const wrongSecret = await postForm(
        "/introspect",
        { token: grant.tokens.access_token },
        { Authorization: basic(grant.client.client_id, "wrong") },
      );
      expect(wrongSecret.status).toBe(401);
      expect(await wrongSecret.json()).toMatchObject({ error: "invalid_client" });
      // A bearer token is not client authentication here.
      const bearer = await postForm(
        "/introspect",
        { token: grant.tokens.access_token },
        { Authorization: `Bearer ${grant.tokens.access_token}` },
      );
      expect(bearer.status).toBe(401);
    });
  });

  describe("§2.1: requests that are refused", () => {
    it("answers a missing token with 400 invalid_request", async () => {
      const client = await registerClient();
      const res = await postForm(
        "/introspect",
        {},
        { Authorization: basic(client.client_id, client.client_secret as string) },
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: "invalid_request",
        error_description: expect.any(String),
      });
    });

    it("answers GET with 405 invalid_request", async () => {
      const res = await call("/introspect?token=abc");
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(await res.json()).toMatchObject({ error: "invalid_request" });
    });

    it("is answered as JSON with Cache-Control: no-store", async () => {
      const grant = await issueGrant();
      const res = await postForm(
        "/introspect",
        { token: grant.tokens.access_token },
        { Authorization: basic(grant.client.client_id, grant.client.client_secret as string) },
      );
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("cache-control")).toBe("no-store");
    });
  });

  describe("cost: access tokens are checked without any Durable Object", () => {
    it("introspects an access token with zero Durable Object calls", async () => {
      const grant = await issueGrant();
      const { bindings, uses } = countingDurableObjects();
      // Warm this isolate's key ring through the same handler, then start counting.
      expect(await introspectWith(bindings, grant.client, grant.tokens.access_token)).toMatchObject(
        { active: true },
      );
      uses.length = 0;

      expect(await introspectWith(bindings, grant.client, grant.tokens.access_token)).toMatchObject(
        { active: true, jti: decodeJwt(grant.tokens.access_token).jti },
      );
      // A resource server asking about another client's token: the owner is read from KV.
      const resourceServer = await registerClient({ resource_server: true });
      expect(
        await introspectWith(bindings, resourceServer, grant.tokens.access_token),
      ).toMatchObject({ active: true });
      await revoked(grant.client, grant.tokens.access_token);
      expect(await introspectWith(bindings, grant.client, grant.tokens.access_token)).toStrictEqual(
        INACTIVE,
      );
      expect(uses).toStrictEqual([]);
    });

    it("introspects a refresh token with exactly one call, to its family", async () => {
      const grant = await issueGrant();
      const { bindings, uses } = countingDurableObjects();
      await introspectWith(bindings, grant.client, grant.tokens.access_token); // warm the key ring
      uses.length = 0;

      expect(await introspectWith(bindings, grant.client, grant.refreshToken)).toMatchObject({
        active: true,
      });

      expect(uses).toStrictEqual([
        { binding: "TOKEN_FAMILY", what: "namespace.idFromString" },
        { binding: "TOKEN_FAMILY", what: "namespace.get" },
        { binding: "TOKEN_FAMILY", what: "stub.inspect" },
      ]);
    });

    it("counts what it should: a refresh through the same bindings reaches the family", async () => {
      const grant = await issueGrant();
      const { bindings, uses } = countingDurableObjects();
      const res = await postFormWith(bindings, grant.client, "/token", {
        grant_type: "refresh_token",
        refresh_token: grant.refreshToken,
      });
      expect(res.status).toBe(200);
      expect(uses).toContainEqual({ binding: "TOKEN_FAMILY", what: "stub.refresh" });
    });
  });

  describe("KV outage: introspection fails closed", () => {
    it('answers {"active": false} (200, not 5xx) when the revocation lists cannot be read', async () => {
      const user = await registerUser();
      const grant = await issueGrant({ user });
      const working = { ...env };
      const outage = { ...env, REVOCATIONS: unreadableKv(env.REVOCATIONS) };

      // The same direct call with working bindings says active: only KV differs.
      expect(await introspectWith(working, grant.client, grant.tokens.access_token)).toMatchObject({
        active: true,
      });
      const logs = captureLogs();
      expect(await introspectWith(outage, grant.client, grant.tokens.access_token)).toStrictEqual(
        INACTIVE,
      );
      // The outage is logged, by the token's id and never the token.
      expect(logs.lines()).toContainEqual(
        expect.objectContaining({ event: "revocation_list_unreadable", jti: claimsOf(grant).jti }),
      );
      expect(logs.raw().join("\n")).not.toContain(grant.tokens.access_token);
    });
  });

  describe("RFC 8705 §3.2: a certificate-bound token's cnf", () => {
    const { app1, payments } = CERTIFICATES;

    async function boundToken(headers: Record<string, string> = {}) {
      const client = await registerSelfSignedClient([app1]);
      const res = await mtlsPost(
        "/token",
        { grant_type: "client_credentials", client_id: client.client_id },
        app1,
        { headers },
      );
      expect(res.status, await res.clone().text()).toBe(200);
      return { client, token: (await json<{ access_token: string }>(res)).access_token };
    }

    it("carries the certificate's x5t#S256, to the token's client and to a resource server", async () => {
      const { client, token } = await boundToken();
      const x5t = await x5tOf(app1);
      // The token's own client, authenticating over mutual TLS as it registered.
      const own = await mtlsPost("/introspect", { token, client_id: client.client_id }, app1);
      expect(await json(own)).toMatchObject({
        active: true,
        token_type: "Bearer",
        cnf: { "x5t#S256": x5t },
      });
      // A resource server, with a secret and no certificate of its own.
      const rs = await registerClient({
        resource_server: true,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        scope: "api:read",
      });
      expect(await expectActive(rs, token)).toMatchObject({
        token_type: "Bearer",
        cnf: { "x5t#S256": x5t },
      });
      // And a resource server that authenticates with tls_client_auth.
      const mtlsRs = await registerTlsClient({ resource_server: true });
      const viaMtls = await mtlsPost(
        "/introspect",
        { token, client_id: mtlsRs.client_id },
        payments,
      );
      expect(await json(viaMtls)).toMatchObject({ active: true, cnf: { "x5t#S256": x5t } });
    });

    it("carries both members when the token is bound to a DPoP key too", async () => {
      const client = await registerSelfSignedClient([app1]);
      const key = await DpopKey.generate();
      const nonce = await serverNonce(client, key);
      const res = await mtlsPost(
        "/token",
        { grant_type: "client_credentials", client_id: client.client_id },
        app1,
        { headers: { DPoP: await key.proof("POST", TOKEN_URL, { nonce }) } },
      );
      const token = (await json<{ access_token: string }>(res)).access_token;
      const answer = await mtlsPost("/introspect", { token, client_id: client.client_id }, app1);
      expect(await json(answer)).toMatchObject({
        active: true,
        token_type: "DPoP",
        cnf: { jkt: key.jkt, "x5t#S256": await x5tOf(app1) },
      });
    });
  });
});
