import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { serverKeys } from "../../src/server-keys";
import { encodeFamilyToken, newSecret } from "../../src/tokens/family-token";
import { codeFlow } from "../support/browser";
import { introspect, registerClient, registerUser } from "../support/fixtures";
import { adminCall, call, ISSUER, json } from "../support/http";
import {
  grantWithRefresh,
  refresh,
  refreshOk,
  refreshRefused,
  rewriteFamily,
  sleep,
  storedEntries,
  storedFamily,
} from "../support/refresh";

/**
 * The refresh_token grant (RFC 6749 §6) with rotation, reuse detection and a
 * grace window (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2), through the real token
 * endpoint, with the real TokenFamily Durable Objects behind it.
 */

const ORIGINAL_SCOPE = "openid profile api:read api:write";

/** Replaces one character of `text` at `index` with a different one of the same alphabet. */
function flipAt(text: string, index: number): string {
  const ch = text[index] as string;
  const alphabet = /[0-9a-f]/.test(ch) && index < 69 ? "0123456789abcdef" : "AbcdEfgh_-01";
  const other = alphabet.split("").find((c) => c !== ch) as string;
  return text.slice(0, index) + other + text.slice(index + 1);
}

describe("rotation (OAuth 2.1 §4.3.1)", () => {
  it("answers a new refresh token on every refresh, in the same family, and the new one works", async () => {
    const { client, refreshToken, familyId } = await grantWithRefresh();
    const res = await refresh(client, refreshToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const first = await json<Record<string, unknown>>(res);
    expect(first).toMatchObject({ token_type: "Bearer", scope: ORIGINAL_SCOPE });
    const successor = first.refresh_token as string;
    expect(successor).toMatch(/^rt1\./);
    expect(successor).not.toBe(refreshToken);
    expect(successor.split(".")[1]).toBe(familyId);
    // RFC 9068 access token, tied to the family so that revoking it reaches the token.
    expect(decodeJwt(first.access_token as string)).toMatchObject({
      client_id: client.client_id,
      fid: familyId,
      scope: ORIGINAL_SCOPE,
    });

    const second = await refreshOk(client, successor);
    expect(second.refresh_token).toMatch(/^rt1\./);
    expect(new Set([refreshToken, successor, second.refresh_token]).size).toBe(3);
    await refreshOk(client, second.refresh_token as string);
  });

  it("revokes the whole family when a rotated-out token is used after the window, newest token and access tokens included (RFC 9700 §4.14.2)", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const next = await refreshOk(client, refreshToken);

    const replay = await refreshRefused(client, refreshToken);
    expect(replay.error_description).toMatch(/already used.*revoked/);
    const newest = await refreshRefused(client, next.refresh_token);
    expect(newest.error_description).toMatch(/revoked/);
    // "its access tokens included": introspection reads the family revocation.
    expect(await introspect(client, next.access_token)).toEqual({ active: false });
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "revoked",
      reason: "refresh_token_reuse",
    });
  });

  it("treats the previous token as reuse once the grace window has passed (real time, grace_seconds 1)", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 1 } },
    });
    const next = await refreshOk(client, refreshToken);
    await sleep(1_100);
    await refreshRefused(client, refreshToken);
    await refreshRefused(client, next.refresh_token);
  });
});

describe("grace window: a retried refresh gets the same successor, never a fork", () => {
  it("answers the identical successor to a retry within the window, and the successor then rotates normally", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 30 } },
    });
    const first = await refreshOk(client, refreshToken);
    const retry = await refreshOk(client, refreshToken);
    expect(retry.refresh_token).toBe(first.refresh_token);
    // A retry still gets a fresh access token: only the refresh token is shared.
    expect(retry.access_token).not.toBe(first.access_token);
    const third = await refreshOk(client, first.refresh_token as string);
    expect(third.refresh_token).not.toBe(first.refresh_token);
    await refreshOk(client, third.refresh_token as string);
  });

  it("ends the window as soon as the successor is used: the previous token is then reuse", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 60 } },
    });
    const first = await refreshOk(client, refreshToken);
    const second = await refreshOk(client, first.refresh_token as string);
    const replay = await refreshRefused(client, refreshToken);
    expect(replay.error_description).toMatch(/revoked/);
    await refreshRefused(client, second.refresh_token);
  });

  it("turns 50 parallel refreshes with one token into exactly one successor, and the family works afterwards", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 30 } },
    });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => refresh(client, refreshToken)),
    );
    const bodies = await Promise.all(responses.map((r) => json<Record<string, string>>(r)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const successors = new Set(bodies.map((b) => b.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as [string];
    expect(successor).not.toBe(refreshToken);
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(50);

    const after = await refreshOk(client, successor);
    await refreshOk(client, after.refresh_token as string);
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "active" });
  });

  it("with a window of 0, one of 50 parallel refreshes wins, the 49 others are reuse, and the family is revoked", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => refresh(client, refreshToken)),
    );
    const bodies = await Promise.all(responses.map((r) => json<Record<string, string>>(r)));
    const winners = bodies.filter((_, i) => responses[i]?.status === 200);
    expect(winners).toHaveLength(1);
    const losers = bodies.filter((_, i) => responses[i]?.status !== 200);
    expect(losers).toHaveLength(49);
    for (const loser of losers) expect(loser.error).toBe("invalid_grant");

    await refreshRefused(client, winners[0]?.refresh_token);
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "revoked",
      reason: "refresh_token_reuse",
    });
  });
});

describe("lifetimes: absolute and idle expiry", () => {
  it("refuses a family that was not used for idle_lifetime seconds", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { absolute_lifetime: 60, idle_lifetime: 1 } },
    });
    await sleep(1_100);
    const refused = await refreshRefused(client, refreshToken);
    expect(refused.error_description).toMatch(/expired/);
  });

  it("renews the idle limit on each use, but ends the family at its absolute lifetime", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { absolute_lifetime: 2, idle_lifetime: 1 } },
    });
    let token = refreshToken;
    // Used every 0.6 s (at 0.6, 1.2, 1.8 s): never idle for 1 s, so it lives past its first idle deadline ...
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      token = (await refreshOk(client, token)).refresh_token as string;
    }
    // ... until 2 s after the grant, whatever the use (at 2.4 s it was last used 0.6 s ago).
    await sleep(600);
    const refused = await refreshRefused(client, token);
    expect(refused.error_description).toMatch(/expired/);
  });

  it("applies the provider's default absolute lifetime (30 days) when the client sets none", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const next = await refreshOk(client, refreshToken);
    const thirtyDays = 30 * 86_400_000;
    await rewriteFamily(refreshToken, (s) =>
      s.status === "active"
        ? { ...s, createdAt: s.createdAt - thirtyDays, lastUsedAt: Date.now() - 1_000 }
        : s,
    );
    await refreshRefused(client, next.refresh_token);
  });
});

describe("scope on refresh (RFC 6749 §6)", () => {
  it("narrows the access token to a requested subset", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const narrowed = await refreshOk(client, refreshToken, { scope: "api:read" });
    expect(narrowed.scope).toBe("api:read");
    expect(decodeJwt(narrowed.access_token).scope).toBe("api:read");
    // No openid in the request: no ID token (OIDC Core §12.2 applies to openid requests).
    expect(narrowed.id_token).toBeUndefined();
  });

  it("refuses a scope beyond the original grant with invalid_scope, and the token stays usable", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    await refreshRefused(client, refreshToken, "invalid_scope", { scope: "api:read email" });
    // The refusal changed nothing: the same token rotates normally, and is not reuse.
    const next = await refreshOk(client, refreshToken);
    await refreshOk(client, next.refresh_token as string);
  });

  it("answers the original scope when the request omits it", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const same = await refreshOk(client, refreshToken);
    expect(same.scope).toBe(ORIGINAL_SCOPE);
  });

  it("widens back to the original scope after a narrowed refresh: the grant keeps its scope", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const narrowed = await refreshOk(client, refreshToken, { scope: "openid" });
    expect(narrowed.scope).toBe("openid");
    const omitted = await refreshOk(client, narrowed.refresh_token as string);
    expect(omitted.scope).toBe(ORIGINAL_SCOPE);
    const named = await refreshOk(client, omitted.refresh_token as string, {
      scope: ORIGINAL_SCOPE,
    });
    expect(decodeJwt(named.access_token).scope).toBe(ORIGINAL_SCOPE);
  });

  it("refuses a malformed scope parameter with invalid_scope", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    await refreshRefused(client, refreshToken, "invalid_scope", { scope: 'api:read "quoted"' });
    await refreshOk(client, refreshToken);
  });
});

describe("whose token it is", () => {
  it("refuses another client's refresh token with invalid_grant, and does not revoke the family", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const other = await registerClient();
    const refused = await refreshRefused(other, refreshToken);
    expect(refused.error_description).toMatch(/another client/);
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "active" });
    // The owner's token is still the current one (nothing rotated, nothing revoked).
    const next = await refreshOk(client, refreshToken);
    await refreshOk(client, next.refresh_token as string);
  });

  it("lets a public client refresh with its client_id alone (RFC 6749 §6: no client authentication)", async () => {
    const { client, refreshToken } = await grantWithRefresh({ public: true });
    expect(client.client_secret).toBeUndefined();
    const next = await refreshOk(client, refreshToken);
    expect(next.refresh_token).not.toBe(refreshToken);
    await refreshOk(client, next.refresh_token as string);
  });

  it("rotates a public client's tokens without a grace window, whatever the provider defaults (RFC 9700 §4.14.2)", async () => {
    // A client_id is a public client's only credential, so a copy of its
    // refresh token presented right after the app rotated is a replay: the
    // family dies at once, instead of handing the copy the app's successor.
    const { client, refreshToken } = await grantWithRefresh({ public: true });
    const app = await refreshOk(client, refreshToken);
    const copy = await refresh(client, refreshToken);
    expect(copy.status).toBe(400);
    expect(await copy.json()).toMatchObject({ error: "invalid_grant" });
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "revoked",
      reason: "refresh_token_reuse",
    });
    expect((await refresh(client, app.refresh_token as string)).status).toBe(400);
  });

  it("defeats the thief who times a copied public-client token: no status to learn, no successor to take", async () => {
    const { client, refreshToken } = await grantWithRefresh({ public: true });
    // The thief polls introspection with the client_id alone, to learn when the app rotates.
    const probe = await call("/introspect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: client.client_id, token: refreshToken }),
    });
    expect(probe.status).toBe(401);
    // The app rotates; the thief presents the copy at once, inside what used to be the window.
    const app = await refreshOk(client, refreshToken);
    const stolen = await refresh(client, refreshToken);
    expect(stolen.status).toBe(400);
    const body = await stolen.json();
    expect(body).not.toHaveProperty("refresh_token");
    expect(body).not.toHaveProperty("access_token");
    // Reuse detection fired: the app's own successor is dead too, and must sign in again.
    expect((await refresh(client, app.refresh_token as string)).status).toBe(400);
  });

  it("refuses a refresh that names no client at all with invalid_client", async () => {
    const { refreshToken } = await grantWithRefresh({ public: true });
    const res = await call("/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });
});

describe('rotation policy "reuse" (Curity, ForgeRock)', () => {
  it("answers the same refresh token each time, and it keeps working", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { rotation: "reuse" } },
    });
    const accessTokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await refreshOk(client, refreshToken);
      expect(res.refresh_token).toBe(refreshToken);
      accessTokens.add(res.access_token);
    }
    expect(accessTokens.size).toBe(3);
  });

  it("with issue_on_refresh=false, answers no refresh_token and the original one keeps working", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { rotation: "reuse", issue_on_refresh: false } },
    });
    for (let i = 0; i < 3; i++) {
      const res = await refreshOk(client, refreshToken);
      expect(res).not.toHaveProperty("refresh_token");
      expect(res.access_token).toBeTruthy();
    }
  });
});

describe("tokens that are not genuine", () => {
  it("refuses tampered tokens (one character changed anywhere) and leaves the genuine one intact", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const positions = [
      0,
      2,
      4,
      10,
      67,
      69,
      70,
      80,
      refreshToken.length - 2,
      refreshToken.length - 1,
    ];
    for (const index of positions) {
      const tampered = flipAt(refreshToken, index);
      expect(tampered).not.toBe(refreshToken);
      const refused = await refreshRefused(client, tampered);
      expect(refused.error_description).not.toContain(tampered);
    }
    // Forgeries are refused before the family is asked: no reuse, no rotation.
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "active",
      refresh: { current: { generation: 0 } },
    });
    await refreshOk(client, refreshToken);
  });

  it("refuses truncated and extended tokens", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    for (const cut of [1, 2, 10, 40, refreshToken.length - 1]) {
      await refreshRefused(client, refreshToken.slice(0, refreshToken.length - cut));
    }
    await refreshRefused(client, `${refreshToken}A`);
    await refreshRefused(client, `${refreshToken}.x`);
    await refreshOk(client, refreshToken);
  });

  it("refuses malformed strings with invalid_grant, and an empty one as a missing parameter", async () => {
    const client = await registerClient();
    for (const junk of ["garbage", "rt1.", "rt1..", "rt1.zz.zz", "x".repeat(5000), "rt1.%00"]) {
      await refreshRefused(client, junk);
    }
    await refreshRefused(client, "", "invalid_request");
  });

  it("refuses a genuine-looking token whose family does not exist", async () => {
    const client = await registerClient();
    const keys = await serverKeys(env);
    const mint = (familyId: string) =>
      encodeFamilyToken(
        { kind: "refresh_token", familyId, generation: 0, secret: newSecret() },
        keys.tokenTag,
      );
    // A valid Durable Object id that no grant ever used, and 64 hex that is no id at all.
    const unused = env.TOKEN_FAMILY.newUniqueId().toString();
    await refreshRefused(client, await mint(unused));
    await refreshRefused(client, await mint("ab".repeat(32)));
    // Asking did not create anything in the family's storage.
    expect(await storedEntries(unused)).toEqual([]);
  });

  it("refuses an authorization code presented as a refresh token", async () => {
    const client = await registerClient({ consent: "implicit" });
    const keys = await serverKeys(env);
    const code = await encodeFamilyToken(
      {
        kind: "authorization_code",
        familyId: env.TOKEN_FAMILY.newUniqueId().toString(),
        generation: 0,
        secret: newSecret(),
      },
      keys.tokenTag,
    );
    const refused = await refreshRefused(client, code);
    expect(refused.error_description).toMatch(/not a refresh token/);
  });
});

describe("reuse detection is a logged security event", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("writes one structured warn line with familyId, clientId and sub, and no token", async () => {
    const { client, user, refreshToken, familyId, tokens } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const next = await refreshOk(client, refreshToken);
    const lines: string[] = [];
    const capture = (...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    };
    vi.spyOn(console, "warn").mockImplementation(capture);
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);

    await refreshRefused(client, refreshToken);

    const events = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const reuse = events.filter((e) => e.event === "refresh.reuse_detected");
    expect(reuse).toHaveLength(1);
    expect(reuse[0]).toMatchObject({
      level: "warn",
      type: "audit",
      familyId,
      clientId: client.client_id,
      sub: user.id,
      reason: "refresh_token_reuse",
    });
    const secrets = [
      refreshToken,
      next.refresh_token as string,
      tokens.access_token,
      next.access_token,
      // the secret-bearing part alone, in case a line carried a piece of a token
      refreshToken.split(".")[2] as string,
      (next.refresh_token as string).split(".")[2] as string,
    ];
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});

describe("ID token on refresh (OIDC Core §12.2)", () => {
  it("keeps iss, sub, aud and the original auth_time, has a new iat, and carries no nonce", async () => {
    const { client, user, tokens, refreshToken } = await grantWithRefresh({
      nonce: "n-refresh-nonce",
    });
    const original = decodeJwt(tokens.id_token as string);
    expect(original.nonce).toBe("n-refresh-nonce");
    await sleep(1_050); // so that a new iat is a different second
    const refreshed = await refreshOk(client, refreshToken);

    const jwks = createLocalJWKSet(await (await call("/jwks")).json<JSONWebKeySet>());
    const { payload } = await jwtVerify(refreshed.id_token as string, jwks, {
      issuer: ISSUER,
      audience: client.client_id,
    });
    expect(payload.iss).toBe(original.iss);
    expect(payload.sub).toBe(user.id);
    expect(payload.sub).toBe(original.sub);
    expect(payload.aud).toEqual(original.aud);
    expect(payload.auth_time).toBe(original.auth_time);
    expect(payload.iat).toBeGreaterThan(original.iat as number);
    expect(payload).not.toHaveProperty("nonce");
    // at_hash binds it to the new access token (OIDC Core §3.1.3.6).
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(refreshed.access_token)),
    );
    const half = btoa(String.fromCharCode(...digest.slice(0, 16)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(payload.at_hash).toBe(half);
  });
});

describe("a refresh re-checks that the grant is still allowed", () => {
  it("stops at once when the user is blocked, and unblocking does not revive the grant", async () => {
    const { client, user, refreshToken } = await grantWithRefresh();
    const next = await refreshOk(client, refreshToken);
    expect((await adminCall("POST", `/admin/users/${user.id}/block`)).status).toBe(200);
    await refreshRefused(client, next.refresh_token);
    expect((await adminCall("POST", `/admin/users/${user.id}/unblock`)).status).toBe(200);
    await refreshRefused(client, next.refresh_token);
    expect(await storedFamily(refreshToken)).toMatchObject({
      status: "revoked",
      reason: "user_blocked",
    });
  });

  it("stops at once when the user is deleted", async () => {
    const { client, user, refreshToken } = await grantWithRefresh();
    expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(204);
    await refreshRefused(client, refreshToken);
    expect(await storedFamily(refreshToken)).toMatchObject({ reason: "user_deleted" });
  });

  it("stops when the client is deleted (invalid_client: it can no longer authenticate)", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    expect((await adminCall("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    const res = await refresh(client, refreshToken);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });

  it("drops a scope the administrator took from the client since the grant, from every new token", async () => {
    const { client, refreshToken } = await grantWithRefresh({ scope: "openid api:read api:write" });
    const patched = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      scope: "openid profile offline_access api:read",
    });
    expect(patched.status).toBe(200);
    const next = await refreshOk(client, refreshToken);
    expect(next.scope?.split(" ").sort()).toEqual(["api:read", "openid"]);
    expect(String(decodeJwt(next.access_token).scope).split(" ").sort()).toEqual([
      "api:read",
      "openid",
    ]);
  });

  it("refuses, changing nothing, a refresh whose every scope was taken from the client", async () => {
    const { client, refreshToken } = await grantWithRefresh({ scope: "api:read api:write" });
    await adminCall("PATCH", `/admin/clients/${client.client_id}`, { scope: "openid profile" });
    const before = await storedFamily(refreshToken);
    const refused = await refresh(client, refreshToken);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_scope" });
    expect(await storedFamily(refreshToken)).toEqual(before);
  });

  it("stops when the client's policy turns refresh tokens off, and resumes when it is back on", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const off = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      refresh_token: { issue: false },
    });
    expect(off.status).toBe(200);
    const refused = await refreshRefused(client, refreshToken);
    expect(refused.error_description).toMatch(/turned off/);
    // The policy gates the endpoint; the grant itself was not revoked.
    await adminCall("PATCH", `/admin/clients/${client.client_id}`, { refresh_token: {} });
    await refreshOk(client, refreshToken);
  });

  it("stops when the client may no longer use the refresh_token grant (unauthorized_client)", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    const res = await adminCall("PATCH", `/admin/clients/${client.client_id}`, {
      grant_types: ["authorization_code"],
    });
    expect(res.status).toBe(200);
    await refreshRefused(client, refreshToken, "unauthorized_client");
  });

  it("issues no refresh token at all for a client whose absolute lifetime is 0 (Curity)", async () => {
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { absolute_lifetime: 0 },
    });
    const tokens = await codeFlow(client, await registerUser(), { scope: ORIGINAL_SCOPE });
    expect(tokens.refresh_token).toBeUndefined();
  });
});
