import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  clientCredentialsGrant,
  introspect,
  registerClient,
  registerPublicClient,
  registerUser,
  revokeRequest,
} from "../support/fixtures";
import { basic, call, postForm } from "../support/http";
import {
  expectActive,
  expectInactive,
  expectRefreshRefused,
  issueGrant,
  jtiOf,
  nowSeconds,
  refreshed,
  revocationEntry,
  revoked,
  signedWithStrangerKey,
} from "../support/revocation";

describe("POST /revoke (RFC 7009)", () => {
  describe("§2.1: revoking a refresh token revokes the grant", () => {
    it("refuses the refresh token afterwards and makes every access token of the family inactive", async () => {
      const grant = await issueGrant();
      const second = await refreshed(grant.client, grant.refreshToken);
      const current = second.refresh_token as string;
      await expectActive(grant.client, grant.tokens.access_token);
      await expectActive(grant.client, second.access_token);

      await revoked(grant.client, current);

      await expectRefreshRefused(grant.client, current);
      await expectInactive(grant.client, current);
      await expectInactive(grant.client, grant.tokens.access_token);
      await expectInactive(grant.client, second.access_token);
    });

    it("revokes the family also when an earlier (rotated-out) refresh token of it is presented", async () => {
      const grant = await issueGrant();
      const second = await refreshed(grant.client, grant.refreshToken);

      await revoked(grant.client, grant.refreshToken);

      await expectRefreshRefused(grant.client, second.refresh_token as string);
      await expectInactive(grant.client, second.access_token);
    });

    it("leaves the user's other grants alone", async () => {
      const grant = await issueGrant();
      const other = await issueGrant({ client: grant.client, user: grant.user });

      await revoked(grant.client, grant.refreshToken);

      await expectActive(grant.client, other.tokens.access_token);
      await refreshed(other.client, other.refreshToken);
    });
  });

  describe("§2.1: revoking an access token revokes that token only", () => {
    it("makes it inactive while its siblings of the same grant stay active", async () => {
      const grant = await issueGrant();
      const second = await refreshed(grant.client, grant.refreshToken);

      await revoked(grant.client, grant.tokens.access_token);

      await expectInactive(grant.client, grant.tokens.access_token);
      await expectActive(grant.client, second.access_token);
      await expectActive(grant.client, second.refresh_token as string);
      await refreshed(grant.client, second.refresh_token as string);
    });

    it("keeps the revocation until the token expires, and no longer", async () => {
      const grant = await issueGrant();
      const { exp } = decodeJwt(grant.tokens.access_token);

      await revoked(grant.client, grant.tokens.access_token);

      const entry = await revocationEntry(`jti:${jtiOf(grant.tokens.access_token)}`);
      expect(entry?.expiration).toBeGreaterThanOrEqual(nowSeconds() + 60);
      expect(entry?.expiration).toBeLessThanOrEqual((exp as number) + 5);
    });

    it("revokes a client_credentials token (one with no grant behind it)", async () => {
      const { client, accessToken: access_token } = await clientCredentialsGrant();
      await expectActive(client, access_token);

      await revoked(client, access_token);

      await expectInactive(client, access_token);
    });
  });

  describe("§2.1: token_type_hint is a hint, never trusted", () => {
    it("revokes a refresh token sent with token_type_hint=access_token", async () => {
      const grant = await issueGrant();
      await revoked(grant.client, grant.refreshToken, "access_token");
      await expectRefreshRefused(grant.client, grant.refreshToken);
      await expectInactive(grant.client, grant.tokens.access_token);
    });

    it("revokes an access token sent with token_type_hint=refresh_token", async () => {
      const grant = await issueGrant();
      await revoked(grant.client, grant.tokens.access_token, "refresh_token");
      await expectInactive(grant.client, grant.tokens.access_token);
      // Only that token: the grant itself is untouched.
      await refreshed(grant.client, grant.refreshToken);
    });

    it("ignores a hint it does not know and still revokes (§2.1: extend the search)", async () => {
      const grant = await issueGrant();
      await revoked(grant.client, grant.tokens.access_token, "id_token");
      await expectInactive(grant.client, grant.tokens.access_token);
    });
  });

  describe("§2.1: only the client a token was issued to may revoke it", () => {
    it("answers another client's attempt with 200 and changes nothing", async () => {
      const grant = await issueGrant();
      const intruder = await registerClient({ consent: "implicit" });

      await revoked(intruder, grant.refreshToken);
      await revoked(intruder, grant.tokens.access_token);

      await expectActive(grant.client, grant.tokens.access_token);
      await expectActive(grant.client, grant.refreshToken);
      expect(await revocationEntry(`jti:${jtiOf(grant.tokens.access_token)}`)).toBeUndefined();
      expect(await revocationEntry(`family:${grant.familyId}`)).toBeUndefined();
      await refreshed(grant.client, grant.refreshToken);
    });

    it("gives a resource server no power to revoke (it may only introspect)", async () => {
      const grant = await issueGrant();
      const resourceServer = await registerClient({ resource_server: true });

      await revoked(resourceServer, grant.refreshToken);
      await revoked(resourceServer, grant.tokens.access_token);

      await expectActive(grant.client, grant.tokens.access_token);
      await refreshed(grant.client, grant.refreshToken);
    });

    it("lets a public client revoke its own tokens with its client_id (§2.1, §5)", async () => {
      const client = await registerPublicClient({ consent: "implicit" });
      const grant = await issueGrant({ client });
      const res = await postForm("/revoke", {
        client_id: client.client_id,
        token: grant.refreshToken,
      });
      expect(res.status).toBe(200);
      await expectRefreshRefused(client, grant.refreshToken);
    });
  });

  describe("§2.2: an invalid token is not an error", () => {
    it("answers 200, with an empty body, for unknown, malformed and forged tokens", async () => {
      const grant = await issueGrant();
      const [prefix, familyId, payload] = grant.refreshToken.split(".") as [string, string, string];
      const flipped = `${payload.slice(0, -2)}${payload.endsWith("AA") ? "BA" : "AA"}`;
      const forgedJwt = await signedWithStrangerKey(
        { ...decodeJwt(grant.tokens.access_token) },
        "some-other-kid",
      );
      for (const token of [
        "not-a-token",
        "rt1.",
        `${prefix}.${familyId}.${flipped}`,
        `rt1.${"0".repeat(64)}.${payload}`,
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        forgedJwt,
        "x".repeat(9000),
      ]) {
        await revoked(grant.client, token);
      }
      // None of them touched the grant.
      await expectActive(grant.client, grant.tokens.access_token);
      await refreshed(grant.client, grant.refreshToken);
    });

    it("answers 200 for a token that is already revoked", async () => {
      const grant = await issueGrant();
      await revoked(grant.client, grant.refreshToken);
      await revoked(grant.client, grant.refreshToken);
      await revoked(grant.client, grant.tokens.access_token);
      await revoked(grant.client, grant.tokens.access_token);
      await expectInactive(grant.client, grant.tokens.access_token);
    });

    it("answers the owner, another client and an unknown token alike", async () => {
      const grant = await issueGrant();
      const intruder = await registerClient();
      const answers = [
        await revokeRequest(intruder, { token: grant.tokens.access_token }),
        await revokeRequest(grant.client, { token: "unknown" }),
        await revokeRequest(grant.client, { token: grant.tokens.access_token }),
      ];
      const shapes = await Promise.all(
        answers.map(async (r) => ({ status: r.status, body: await r.text() })),
      );
      expect(shapes).toStrictEqual([
        { status: 200, body: "" },
        { status: 200, body: "" },
        { status: 200, body: "" },
      ]);
    });
  });

  describe("§2.1 / §2.2.1: requests that are refused", () => {
    it("answers GET with 405, invalid_request and Allow: POST", async () => {
      const res = await call("/revoke?token=abc");
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(await res.json()).toMatchObject({
        error: "invalid_request",
        error_description: expect.any(String),
      });
    });

    it("answers a missing token with 400 invalid_request", async () => {
      const client = await registerClient();
      const res = await revokeRequest(client, {});
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: "invalid_request",
        error_description: expect.any(String),
      });
    });

    it("answers a duplicated token parameter with 400 invalid_request (RFC 6749 §3.1)", async () => {
      const grant = await issueGrant();
      const res = await call("/revoke", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: basic(grant.client.client_id, grant.client.client_secret as string),
        },
        body: `token=${grant.refreshToken}&token=other`,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_request" });
      await refreshed(grant.client, grant.refreshToken);
    });

    it("requires client authentication and revokes nothing without it (§2.1)", async () => {
      const grant = await issueGrant();
      const anonymous = await postForm("/revoke", { token: grant.refreshToken });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ error: "invalid_client" });

      const wrongSecret = await postForm(
        "/revoke",
        { token: grant.refreshToken },
        { Authorization: basic(grant.client.client_id, "not-the-secret") },
      );
      expect(wrongSecret.status).toBe(401);
      expect(wrongSecret.headers.get("www-authenticate")).toMatch(/^Basic /);
      expect(await wrongSecret.json()).toMatchObject({ error: "invalid_client" });

      // A confidential client cannot pass as public by sending only its client_id.
      const idOnly = await postForm("/revoke", {
        client_id: grant.client.client_id,
        token: grant.refreshToken,
      });
      expect(idOnly.status).toBe(401);

      await expectActive(grant.client, grant.refreshToken);
    });

    it("is answered with Cache-Control: no-store", async () => {
      const grant = await issueGrant();
      const res = await revokeRequest(grant.client, { token: grant.tokens.access_token });
      expect(res.headers.get("cache-control")).toBe("no-store");
    });
  });

  it("ends a user's access across endpoints: userinfo refuses a revoked access token", async () => {
    const grant = await issueGrant({ user: await registerUser() });
    await revoked(grant.client, grant.refreshToken);
    const info = await call("/userinfo", {
      headers: { Authorization: `Bearer ${grant.tokens.access_token}` },
    });
    expect(info.status).toBe(401);
    expect(await introspect(grant.client, grant.tokens.access_token)).toStrictEqual({
      active: false,
    });
  });
});
