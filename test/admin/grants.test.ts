import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GrantView } from "../../src/users/family-fan-out";
import { Browser, pkce, signInAndAuthorize } from "../support/browser";
import {
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  type TestUser,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, call, json } from "../support/http";
import {
  captureLogs,
  expectActive,
  expectInactive,
  expectRefreshRefused,
  type IssuedGrant,
  issueGrant,
  nowSeconds,
  refreshed,
  revocationEntry,
  revoked,
} from "../support/revocation";

async function listGrants(userId: string): Promise<GrantView[]> {
  const res = await adminCall("GET", `/admin/users/${userId}/grants`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ grants: GrantView[] }>(res)).grants;
}

/** Two grants of one user with two clients, and one grant of another user. */
async function twoGrantsAndABystander(): Promise<{
  user: TestUser;
  first: IssuedGrant;
  second: IssuedGrant;
  bystander: IssuedGrant;
}> {
  const user = await registerUser();
  const browser = new Browser();
  const first = await issueGrant({ user, browser, scope: "openid api:read" });
  const second = await issueGrant({ user, browser, scope: "openid api:write" });
  const bystander = await issueGrant({ client: first.client });
  return { user, first, second, bystander };
}

async function expectGrantDead(grant: IssuedGrant): Promise<void> {
  await expectInactive(grant.client, grant.tokens.access_token);
  await expectInactive(grant.client, grant.refreshToken);
  await expectRefreshRefused(grant.client, grant.refreshToken);
}

async function expectGrantAlive(grant: IssuedGrant): Promise<void> {
  await expectActive(grant.client, grant.tokens.access_token);
  await expectActive(grant.client, grant.refreshToken);
}

/** An authorization code issued (not yet redeemed), and how to redeem it. */
async function pendingCode(client: RegisteredClient, user: TestUser) {
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, {
    scope: "openid api:read",
    challenge,
  });
  const code = redirect.searchParams.get("code") as string;
  expect(code).toMatch(/^ac1\./);
  return () =>
    tokenRequest(client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
}

describe("a user's grants (admin API)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe("GET /admin/users/:id/grants", () => {
    it("lists each live grant with client_id, scope, created_at, last_refresh_at and expires_at, newest first", async () => {
      const before = nowSeconds();
      const { user, first, second } = await twoGrantsAndABystander();

      const grants = await listGrants(user.id);

      expect(grants.map((g) => g.grant_id).sort()).toStrictEqual(
        [first.familyId, second.familyId].sort(),
      );
      const byId = new Map(grants.map((g) => [g.grant_id, g]));
      expect(byId.get(first.familyId)).toStrictEqual({
        grant_id: first.familyId,
        client_id: first.client.client_id,
        scope: "openid api:read",
        created_at: expect.any(Number),
        last_refresh_at: null,
        expires_at: expect.any(Number),
        refresh_token: true,
        // Made without offline_access: it belongs to its login session.
        ends_with_session: true,
      });
      expect(byId.get(second.familyId)).toMatchObject({
        client_id: second.client.client_id,
        scope: "openid api:write",
      });
      for (const g of grants) {
        expect(g.created_at).toBeGreaterThanOrEqual(before - 1);
        expect(g.created_at).toBeLessThanOrEqual(nowSeconds());
        // Made without offline_access, each belongs to its login session (README, "Sessions and
        // logout") and ends with it: LOGIN_SESSION_LIFETIME (8 hours) after the sign-in, well
        // before the provider's idle 7 days.
        expect(g.expires_at).toBeLessThanOrEqual(g.created_at + 8 * 3600);
        expect(g.expires_at).toBeGreaterThan(g.created_at + 8 * 3600 - 60);
      }
      const created = grants.map((g) => g.created_at);
      expect(created).toStrictEqual([...created].sort((a, b) => b - a));
    });

    it("shows the last refresh, and the idle expiry it pushed forward", async () => {
      // With offline_access: the grant outlives the login session, so only its lifetimes count.
      const grant = await issueGrant({ scope: "openid offline_access api:read" });
      const [initial] = await listGrants(grant.user.id);
      await new Promise((r) => setTimeout(r, 1100));
      await refreshed(grant.client, grant.refreshToken);

      const [after] = await listGrants(grant.user.id);

      expect(after?.last_refresh_at).toBeGreaterThan(initial?.created_at as number);
      expect(after?.expires_at).toBe((after?.last_refresh_at as number) + 7 * 86_400);
      expect(after?.created_at).toBe(initial?.created_at);
    });

    it("leaves out grants that were revoked", async () => {
      const grant = await issueGrant();
      await revoked(grant.client, grant.refreshToken);
      expect(await listGrants(grant.user.id)).toStrictEqual([]);
    });

    it("answers 404 for an unknown user and 401 without the admin token", async () => {
      const missing = await adminCall("GET", `/admin/users/${crypto.randomUUID()}/grants`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: "not_found" });
      const user = await registerUser();
      const anonymous = await call(`/admin/users/${user.id}/grants`);
      expect(anonymous.status).toBe(401);
    });
  });

  describe("DELETE /admin/users/:id/grants/:grantId", () => {
    it("revokes that grant: its access tokens are inactive and its refresh token is refused", async () => {
      const { user, first, second, bystander } = await twoGrantsAndABystander();
      const later = await refreshed(first.client, first.refreshToken);

      const res = await adminCall("DELETE", `/admin/users/${user.id}/grants/${first.familyId}`);
      expect(res.status).toBe(204);

      await expectInactive(first.client, first.tokens.access_token);
      await expectInactive(first.client, later.access_token);
      await expectRefreshRefused(first.client, later.refresh_token as string);
      expect((await listGrants(user.id)).map((g) => g.grant_id)).toStrictEqual([second.familyId]);
      await expectGrantAlive(second);
      await expectGrantAlive(bystander);
      expect(await env.REVOCATIONS.get(`family:${first.familyId}`, "json")).toStrictEqual({
        reason: "admin",
      });
    });

    it("answers 404, and revokes nothing, for another user's grant or an unknown one", async () => {
      const { user, bystander } = await twoGrantsAndABystander();

      for (const grantId of [bystander.familyId, "0".repeat(64), "not-a-grant-id"]) {
        const res = await adminCall("DELETE", `/admin/users/${user.id}/grants/${grantId}`);
        expect(res.status, grantId).toBe(404);
        expect(await res.json()).toMatchObject({ error: "not_found" });
      }
      await expectGrantAlive(bystander);
      expect(await revocationEntry(`family:${bystander.familyId}`)).toBeUndefined();
    });

    it("answers 404 for a grant that is already revoked", async () => {
      const grant = await issueGrant();
      const path = `/admin/users/${grant.user.id}/grants/${grant.familyId}`;
      expect((await adminCall("DELETE", path)).status).toBe(204);
      expect((await adminCall("DELETE", path)).status).toBe(404);
    });
  });

  describe("DELETE /admin/users/:id/grants (revoke all)", () => {
    it("leaves the user no active grant: the list is empty and every token is inactive", async () => {
      const { user, first, second, bystander } = await twoGrantsAndABystander();
      const later = await refreshed(second.client, second.refreshToken);

      const res = await adminCall("DELETE", `/admin/users/${user.id}/grants`);
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ revoked: 2 });

      expect(await listGrants(user.id)).toStrictEqual([]);
      await expectGrantDead(first);
      await expectInactive(second.client, second.tokens.access_token);
      await expectInactive(second.client, later.access_token);
      await expectRefreshRefused(second.client, later.refresh_token as string);
      // Another user's grant with the same client is untouched.
      await expectGrantAlive(bystander);
    });

    it("also ends a code issued before it and not yet redeemed", async () => {
      const client = await registerClient({ consent: "implicit" });
      const user = await registerUser();
      const redeem = await pendingCode(client, user);
      const logs = captureLogs();

      const res = await adminCall("DELETE", `/admin/users/${user.id}/grants`);
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ revoked: 1 });
      // Revoking a grant that has no token yet is not a failure to report.
      expect(logs.lines().filter((l) => l.level === "error")).toStrictEqual([]);

      const late = await redeem();
      expect(late.status).toBe(400);
      expect(await late.json()).toMatchObject({ error: "invalid_grant" });
      expect(await listGrants(user.id)).toStrictEqual([]);
    });

    it("answers { revoked: 0 } for a user with no grant, and 404 for an unknown user", async () => {
      const user = await registerUser();
      const res = await adminCall("DELETE", `/admin/users/${user.id}/grants`);
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ revoked: 0 });
      expect((await adminCall("DELETE", `/admin/users/${crypto.randomUUID()}/grants`)).status).toBe(
        404,
      );
    });
  });

  describe("POST /admin/users/:id/block", () => {
    it("revokes every grant of the user, codes not yet redeemed included", async () => {
      const { user, first, second, bystander } = await twoGrantsAndABystander();
      const redeem = await pendingCode(first.client, user);
      const logs = captureLogs();

      const res = await adminCall("POST", `/admin/users/${user.id}/block`);
      expect(res.status).toBe(200);

      expect(await listGrants(user.id)).toStrictEqual([]);
      await expectGrantDead(first);
      await expectGrantDead(second);
      await expectGrantAlive(bystander);
      for (const grant of [first, second]) {
        expect(await env.REVOCATIONS.get(`family:${grant.familyId}`, "json")).toStrictEqual({
          reason: "user_blocked",
        });
      }
      const late = await redeem();
      expect(late.status).toBe(400);
      expect(await late.json()).toMatchObject({ error: "invalid_grant" });
      expect(logs.lines()).toContainEqual(
        expect.objectContaining({ event: "user.blocked", sub: user.id }),
      );
    });
  });
});
