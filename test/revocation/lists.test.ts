import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RevokedFamily } from "../../src/families/model";
import {
  isAccessTokenRevoked,
  publishFamilyRevocation,
  revokeAccessTokenId,
} from "../../src/revocation/lists";
import { type RegisteredClient, registerClient, registerUser } from "../support/fixtures";
import { adminCall } from "../support/http";
import {
  captureLogs,
  codeFlowWith,
  expectInactive,
  expectRefreshRefused,
  INACTIVE,
  introspectWith,
  issueGrant,
  jtiOf,
  nowSeconds,
  postFormWith,
  refreshed,
  refreshRequest,
  revocationEntry,
  revoked,
  sleep,
  unreadableKv,
  withAccessTokenLifetime,
} from "../support/revocation";

/** KV refuses an expiration less than 60 s ahead; entries may outlive their tokens by that. */
const KV_MIN_TTL = 60;

const expOf = (accessToken: string) => decodeJwt(accessToken).exp as number;

function revokedFamily(familyId: string, accessTokensUntil: number): RevokedFamily {
  return {
    status: "revoked",
    familyId,
    grant: { clientId: "c", sub: "s", scope: ["openid"], authTime: 0 },
    createdAt: Date.now() - 1000,
    revokedAt: Date.now(),
    reason: "admin",
    accessTokensUntil,
  };
}

const randomId = () =>
  [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

describe("the KV revocation lists (src/revocation/lists.ts)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe("an entry lives exactly as long as the access tokens it concerns", () => {
    it("expires a revoked jti when the token expires", async () => {
      const exp = nowSeconds() + 900;
      await revokeAccessTokenId(env, "jti-long", exp);
      expect(await revocationEntry("jti:jti-long")).toStrictEqual({
        name: "jti:jti-long",
        expiration: exp,
      });
    });

    it("keeps a jti for KV's minimum of 60 s when the token expires sooner", async () => {
      const exp = nowSeconds() + 5;
      const before = nowSeconds();
      await revokeAccessTokenId(env, "jti-short", exp);
      const entry = await revocationEntry("jti:jti-short");
      expect(entry?.expiration).toBeGreaterThanOrEqual(before + KV_MIN_TTL);
      expect(entry?.expiration).toBeLessThanOrEqual(exp + KV_MIN_TTL);
    });

    it("writes nothing for a token that has already expired", async () => {
      await revokeAccessTokenId(env, "jti-dead", nowSeconds());
      await revokeAccessTokenId(env, "jti-older", nowSeconds() - 100);
      expect(await revocationEntry("jti:jti-dead")).toBeUndefined();
      expect(await revocationEntry("jti:jti-older")).toBeUndefined();
    });

    it("expires a revoked family when its last access token expires", async () => {
      const familyId = randomId();
      const until = Date.now() + 600_500; // milliseconds, as the family keeps it
      await publishFamilyRevocation(env, revokedFamily(familyId, until));
      expect(await revocationEntry(`family:${familyId}`)).toStrictEqual({
        name: `family:${familyId}`,
        expiration: Math.ceil(until / 1000),
      });
      expect(await env.REVOCATIONS.get(`family:${familyId}`, "json")).toStrictEqual({
        reason: "admin",
      });
    });

    it("writes nothing for a family whose access tokens have all expired", async () => {
      // Access tokens expire on whole seconds (`exp`), which is what the family records.
      const expiredNow = randomId();
      const expiredBefore = randomId();
      await publishFamilyRevocation(env, revokedFamily(expiredNow, nowSeconds() * 1000));
      await publishFamilyRevocation(env, revokedFamily(expiredBefore, (nowSeconds() - 30) * 1000));
      expect(await revocationEntry(`family:${expiredNow}`)).toBeUndefined();
      expect(await revocationEntry(`family:${expiredBefore}`)).toBeUndefined();
    });
  });

  describe("isAccessTokenRevoked", () => {
    const exp = nowSeconds() + 600;

    it("finds a token by its jti or by its family, and nothing else", async () => {
      const familyId = randomId();
      await revokeAccessTokenId(env, "listed-jti", nowSeconds() + 600);
      await publishFamilyRevocation(env, revokedFamily(familyId, Date.now() + 600_000));

      expect(await isAccessTokenRevoked(env, { jti: "clean-jti", exp })).toBe(false);
      expect(await isAccessTokenRevoked(env, { jti: "clean-jti", fid: randomId(), exp })).toBe(
        false,
      );
      expect(await isAccessTokenRevoked(env, { jti: "listed-jti", exp })).toBe(true);
      expect(await isAccessTokenRevoked(env, { jti: "clean-jti", fid: familyId, exp })).toBe(true);
    });

    it("throws when KV cannot be read, so that callers fail closed", async () => {
      const outage = { ...env, REVOCATIONS: unreadableKv(env.REVOCATIONS) };
      await expect(
        isAccessTokenRevoked(outage, { jti: "any", fid: randomId(), exp }),
      ).rejects.toThrow();
    });
  });

  describe("what the endpoints write", () => {
    it("POST /revoke with an access token lists its jti until its exp", async () => {
      const grant = await issueGrant();
      const exp = expOf(grant.tokens.access_token);
      await revoked(grant.client, grant.tokens.access_token);
      const entry = await revocationEntry(`jti:${jtiOf(grant.tokens.access_token)}`);
      expect(entry?.expiration).toBe(exp);
      expect(entry?.expiration).toBeGreaterThanOrEqual(nowSeconds() + KV_MIN_TTL);
    });

    it("POST /revoke with a refresh token lists the family until its newest access token expires", async () => {
      const grant = await issueGrant({
        clientFields: { access_token_lifetime: 300 },
      });
      const second = await refreshed(grant.client, grant.refreshToken);
      // A later token may live longer: the client's lifetime changed in between.
      await adminCall("PATCH", `/admin/clients/${grant.client.client_id}`, {
        access_token_lifetime: 1200,
      });
      const third = await refreshed(grant.client, second.refresh_token as string);
      const exps = [grant.tokens, second, third].map((t) => expOf(t.access_token));
      expect(exps[2]).toBeGreaterThan(exps[0] as number);

      await revoked(grant.client, third.refresh_token as string);

      const entry = await revocationEntry(`family:${grant.familyId}`);
      expect(entry?.expiration).toBe(Math.max(...exps));
      expect(await env.REVOCATIONS.get(`family:${grant.familyId}`, "json")).toStrictEqual({
        reason: "revoked_by_client",
      });
    });

    it("refresh-token reuse lists the family, with its reason", async () => {
      const grant = await issueGrant({ clientFields: { refresh_token: { grace_seconds: 0 } } });
      const second = await refreshed(grant.client, grant.refreshToken);
      captureLogs(); // the reuse is a security event; keep it off the test output
      expect((await refreshRequest(grant.client, grant.refreshToken)).status).toBe(400);

      const entry = await revocationEntry(`family:${grant.familyId}`);
      expect(entry?.expiration).toBe(expOf(second.access_token));
      expect(await env.REVOCATIONS.get(`family:${grant.familyId}`, "json")).toStrictEqual({
        reason: "refresh_token_reuse",
      });
    });

    it("keeps entries for at least 60 s even for access tokens that live 5 s", async () => {
      const client = await registerClient({ consent: "implicit" });
      const user = await registerUser();
      const shortLived = withAccessTokenLifetime(5);
      const a = await codeFlowWith(shortLived, client, user);
      const b = await codeFlowWith(shortLived, client, user);
      expect(expOf(a.access_token) - (decodeJwt(a.access_token).iat as number)).toBe(5);
      const before = nowSeconds();

      await revoked(client, a.access_token);
      await revoked(client, b.refresh_token as string);

      for (const name of [
        `jti:${jtiOf(a.access_token)}`,
        `family:${b.refresh_token?.split(".")[1]}`,
      ]) {
        const entry = await revocationEntry(name);
        expect(entry?.expiration, name).toBeGreaterThanOrEqual(before + KV_MIN_TTL);
        expect(entry?.expiration, name).toBeLessThanOrEqual(nowSeconds() + KV_MIN_TTL + 1);
      }
      await expectInactive(client, a.access_token);
      await expectInactive(client, b.access_token);
    });

    it("writes no entry for a family whose access tokens have all expired; the family still refuses its refresh token", async () => {
      const client = await registerClient({ consent: "implicit" });
      const user = await registerUser();
      const tokens = await codeFlowWith(withAccessTokenLifetime(1), client, user);
      const refreshToken = tokens.refresh_token as string;
      await sleep(2100);

      await revoked(client, refreshToken);

      expect(await revocationEntry(`family:${refreshToken.split(".")[1]}`)).toBeUndefined();
      await expectRefreshRefused(client, refreshToken);
      await expectInactive(client, refreshToken);
    });
  });

  describe("what an isolate remembers (REVOCATION_CACHE_SECONDS)", () => {
    const withCache = (seconds: number) => ({ ...env, REVOCATION_CACHE_SECONDS: String(seconds) });
    /** What the family's Durable Object writes when it is revoked in another location. */
    const revokedElsewhere = (familyId: string) =>
      env.REVOCATIONS.put(`family:${familyId}`, JSON.stringify({ reason: "admin" }), {
        expirationTtl: 600,
      });

    it("answers 'not revoked' from memory for at most REVOCATION_CACHE_SECONDS", async () => {
      const { client, tokens, familyId } = await issueGrant();
      const oneSecond = withCache(1);
      expect((await introspectWith(oneSecond, client, tokens.access_token)).active).toBe(true);

      await revokedElsewhere(familyId);
      const remembered = await introspectWith(oneSecond, client, tokens.access_token);
      expect(remembered.active, "within the bound").toBe(true);
      await sleep(1100);
      expect(await introspectWith(oneSecond, client, tokens.access_token)).toStrictEqual(INACTIVE);
    });

    it("reads KV for every answer when REVOCATION_CACHE_SECONDS is 0", async () => {
      const { client, tokens, familyId } = await issueGrant();
      const never = withCache(0);
      expect((await introspectWith(never, client, tokens.access_token)).active).toBe(true);
      await revokedElsewhere(familyId);
      expect(await introspectWith(never, client, tokens.access_token)).toStrictEqual(INACTIVE);
    });

    it("sees at once a revocation made through this isolate, whatever it remembered", async () => {
      const aMinute = withCache(60);
      const remembered = async (client: RegisteredClient, accessToken: string) =>
        expect((await introspectWith(aMinute, client, accessToken)).active).toBe(true);

      // RFC 7009 with the access token itself.
      const a = await issueGrant();
      await remembered(a.client, a.tokens.access_token);
      await postFormWith(aMinute, a.client, "/revoke", { token: a.tokens.access_token });
      expect(await introspectWith(aMinute, a.client, a.tokens.access_token)).toStrictEqual(
        INACTIVE,
      );

      // RFC 7009 with the refresh token: the whole family.
      const b = await issueGrant();
      await remembered(b.client, b.tokens.access_token);
      await postFormWith(aMinute, b.client, "/revoke", { token: b.refreshToken });
      expect(await introspectWith(aMinute, b.client, b.tokens.access_token)).toStrictEqual(
        INACTIVE,
      );

      // Refresh-token reuse (no grace window): the family's Durable Object revokes it.
      const c = await issueGrant({ clientFields: { refresh_token: { grace_seconds: 0 } } });
      await remembered(c.client, c.tokens.access_token);
      const rotate = { grant_type: "refresh_token", refresh_token: c.refreshToken };
      expect((await postFormWith(aMinute, c.client, "/token", rotate)).status).toBe(200);
      const replay = await postFormWith(aMinute, c.client, "/token", rotate);
      expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
      expect(await introspectWith(aMinute, c.client, c.tokens.access_token)).toStrictEqual(
        INACTIVE,
      );
    });
  });
});
