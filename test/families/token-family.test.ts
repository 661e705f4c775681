import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { familyObject } from "../../src/families/gateway";
import type { FamilyState } from "../../src/families/model";
import { TOMBSTONE_LIFETIME_MS } from "../../src/families/state";
import type { TokenFamily } from "../../src/families/token-family";
import { toBase64Url, toHex } from "../../src/lib/bytes";
import { serverKeys } from "../../src/server-keys";
import { decodeFamilyToken, openSuccessor, secretHash } from "../../src/tokens/family-token";
import { Browser, pkce, signInAndAuthorize } from "../support/browser";
import { REDIRECT_URI, registerClient, registerUser, tokenRequest } from "../support/fixtures";
import { adminCall, json } from "../support/http";
import {
  familyStubOf,
  grantWithRefresh,
  refresh,
  refreshOk,
  refreshRefused,
  rewriteFamily,
  storedEntries,
  storedFamily,
} from "../support/refresh";
import { failAfterWrites, restoreWrites } from "../support/security";

/**
 * The TokenFamily Durable Object: one grant, its state in the DO's own
 * storage, changed only inside one transaction per operation. These tests
 * read that storage directly (runInDurableObject), restart the object, and
 * run its alarm, against the real Worker.
 */

async function secretOf(token: string): Promise<Uint8Array> {
  const decoded = await decodeFamilyToken(
    token,
    token.startsWith("ac1.") ? "authorization_code" : "refresh_token",
    (await serverKeys(env)).tokenTag,
  );
  if (!decoded) throw new Error("not a genuine token");
  return decoded.secret;
}

/** Every spelling in which a token, or the secret inside it, could sit in storage. */
async function spellings(token: string): Promise<string[]> {
  const secret = await secretOf(token);
  return [token, token.split(".")[2] as string, toBase64Url(secret), toHex(secret)];
}

const storageDump = async (token: string) => JSON.stringify(await storedEntries(token));

describe("what the family stores", () => {
  it("holds no refresh token, authorization code or access token in plaintext, only SHA-256 of secrets", async () => {
    // The flow by hand, to keep the authorization code as well (a confidential
    // client: a public one has no grace window).
    const client = await registerClient({
      consent: "implicit",
      refresh_token: { grace_seconds: 30 },
    });
    const user = await registerUser();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, {
      challenge,
      scope: "openid api:read",
    });
    const code = redirect.searchParams.get("code") as string;
    const res = await tokenRequest(client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    const tokens = await json<Record<string, string>>(res);
    const first = tokens.refresh_token as string;
    const second = await refreshOk(client, first);
    const third = await refreshOk(client, second.refresh_token as string);
    const issued = [first, second.refresh_token, third.refresh_token] as string[];

    const dump = await storageDump(first);
    const forbidden = [
      ...(await spellings(code)),
      ...(await Promise.all(issued.map(spellings))).flat(),
      tokens.access_token,
      second.access_token,
      third.access_token,
      tokens.id_token,
    ] as string[];
    for (const value of forbidden) expect(dump).not.toContain(value);

    // What it does hold: hashes of the newest two secrets, and the code's hash.
    const state = (await storedFamily(first)) as Extract<FamilyState, { status: "active" }>;
    expect(state.codeHash).toBe(await secretHash(await secretOf(code)));
    expect(state.refresh?.current).toEqual({
      generation: 2,
      hash: await secretHash(await secretOf(third.refresh_token as string)),
    });
    expect(state.refresh?.previous).toMatchObject({
      generation: 1,
      hash: await secretHash(await secretOf(second.refresh_token as string)),
    });
    // The grace successor is sealed: only the holder of its predecessor can open it.
    const sealed = state.refresh?.previous?.sealedSuccessor as string;
    expect(await openSuccessor(sealed, await secretOf(second.refresh_token as string))).toEqual(
      await secretOf(third.refresh_token as string),
    );
    expect(await openSuccessor(sealed, await secretOf(first))).toBeUndefined();
  });

  it("does not grow with the length of the chain: after 300 rotations it is no larger than after one", async () => {
    const { client, refreshToken } = await grantWithRefresh({ public: true, scope: "api:read" });
    const stub = familyStubOf(refreshToken);
    const measure = () =>
      runInDurableObject(stub, (_instance, state) => ({
        databaseSize: state.storage.sql.databaseSize,
        keys: [...state.storage.kv.list()].map(([key]) => key),
        stateBytes: JSON.stringify(state.storage.kv.get("family")).length,
      }));

    let token = (await refreshOk(client, refreshToken)).refresh_token as string;
    const afterOne = await measure();
    for (let i = 1; i < 300; i++) token = (await refreshOk(client, token)).refresh_token as string;
    const afterMany = await measure();

    expect((await storedFamily(token)) as { refresh: unknown }).toMatchObject({
      refresh: { current: { generation: 300 }, previous: { generation: 299 } },
    });
    expect(afterMany.keys).toEqual(afterOne.keys);
    expect(afterMany.databaseSize).toBeLessThanOrEqual(afterOne.databaseSize);
    // Only the two generation counters grow, by their digits: "1" → "300", "0" → "299".
    expect(afterMany.stateBytes).toBeLessThanOrEqual(afterOne.stateBytes + 4);
  });
});

describe("restarts lose nothing (state lives in storage, not in the instance)", () => {
  const mark = (stub: DurableObjectStub<TokenFamily>, value: string) =>
    runInDurableObject(stub, (instance: TokenFamily) => {
      (instance as unknown as { marker?: string }).marker = value;
    });
  const markOf = (stub: DurableObjectStub<TokenFamily>) =>
    runInDurableObject(stub, (instance: TokenFamily) => {
      return (instance as unknown as { marker?: string }).marker;
    });

  it("keeps rotating when the object is evicted between two refreshes, in a new instance", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 30 } },
    });
    const stub = familyStubOf(refreshToken);
    const first = await refreshOk(client, refreshToken);
    await mark(stub, "old instance");
    const before = await storedFamily(refreshToken);

    await evictDurableObject(stub);
    expect(await markOf(stub)).toBeUndefined(); // a new instance: nothing in memory survived
    expect(await storedFamily(refreshToken)).toEqual(before);

    // The grace retry after the restart still gets the identical successor ...
    const retry = await refreshOk(client, refreshToken);
    expect(retry.refresh_token).toBe(first.refresh_token);
    await evictDurableObject(stub);
    // ... and the chain goes on.
    const second = await refreshOk(client, first.refresh_token as string);
    await evictDurableObject(stub);
    await refreshOk(client, second.refresh_token as string);
  });

  it("still detects reuse after a restart, and the revocation survives the next one", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const stub = familyStubOf(refreshToken);
    const next = await refreshOk(client, refreshToken);
    await evictDurableObject(stub);
    await refreshRefused(client, refreshToken);
    await evictDurableObject(stub);
    await refreshRefused(client, next.refresh_token);
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "revoked" });
  });
});

describe("one transaction per operation", () => {
  it("rolls a refresh back entirely when it fails after writing: the same token still works, and is not reuse", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const stub = familyStubOf(refreshToken);
    const before = await storedFamily(refreshToken);
    // The refresh's write lands, then throws inside its transaction.
    await failAfterWrites(stub);

    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      errors.push(args.map(String).join(" "));
    });
    const failed = await refresh(client, refreshToken);
    spy.mockRestore();
    expect(failed.status).toBe(500);
    const body = await failed.text();
    expect(JSON.parse(body)).toMatchObject({ error: "server_error" });
    // The outage is logged as structured JSON, with neither the token nor its secret part.
    expect(errors.some((line) => line.includes('"event":"unhandled_exception"'))).toBe(true);
    for (const text of [body, ...errors]) {
      expect(text).not.toContain(refreshToken);
      expect(text).not.toContain(refreshToken.split(".")[2]);
    }
    expect(await storedFamily(refreshToken)).toEqual(before);

    await restoreWrites(stub);
    // With a grace window of 0, a rotation that had happened would make this reuse.
    const next = await refreshOk(client, refreshToken);
    await refreshOk(client, next.refresh_token as string);
  });
});

describe("cleanup by the alarm", () => {
  it("keeps a live family when its alarm runs early, and deletes all of its storage once it has expired", async () => {
    const { client, user, refreshToken, familyId } = await grantWithRefresh();
    await refreshOk(client, refreshToken);
    const stub = familyStubOf(refreshToken);
    const grantsOf = async () =>
      (
        await json<{ grants: { grant_id: string }[] }>(
          await adminCall("GET", `/admin/users/${user.id}/grants`),
        )
      ).grants.map((g) => g.grant_id);
    expect(await grantsOf()).toContain(familyId);

    // Not due yet: the alarm leaves the family alone and sets itself again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "active" });

    // Test setup: the family and its last access token expired a second ago.
    await rewriteFamily(refreshToken, (s) =>
      s.status === "active"
        ? { ...s, expiresAt: Date.now() - 1_000, accessTokensUntil: Date.now() - 1_000 }
        : s,
    );
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storedEntries(refreshToken)).toEqual([]);
    // The user's index forgot it, and its tokens are simply unknown now.
    expect(await grantsOf()).not.toContain(familyId);
    await refreshRefused(client, refreshToken);
  });

  it("keeps a revoked family until its last access token has expired, then deletes it", async () => {
    const { client, refreshToken } = await grantWithRefresh({
      client: { refresh_token: { grace_seconds: 0 } },
    });
    const next = await refreshOk(client, refreshToken);
    await refreshRefused(client, refreshToken); // reuse: revoked
    const stub = familyStubOf(refreshToken);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storedFamily(refreshToken)).toMatchObject({ status: "revoked" });

    await rewriteFamily(refreshToken, (s) =>
      s.status === "revoked" ? { ...s, accessTokensUntil: Date.now() - 1_000 } : s,
    );
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await storedEntries(refreshToken)).toEqual([]);
    await refreshRefused(client, next.refresh_token);
  });

  it("keeps a tombstone (a family revoked before it was created) for its lifetime, refusing a creation, then deletes it", async () => {
    const stub = familyObject(
      env,
      env.TOKEN_FAMILY.newUniqueId().toString(),
    ) as DurableObjectStub<TokenFamily>;
    const stored = () =>
      runInDurableObject(stub, (_i: TokenFamily, state) => [...state.storage.kv.list()]);
    expect(await stub.revoke("user_blocked", "test")).toBe(false); // nothing live was revoked...
    expect(await stored()).toEqual([["family", expect.objectContaining({ status: "tombstone" })]]);
    const code = {
      hash: "code-hash",
      expiresAt: Date.now() + 60_000,
      redirectUri: REDIRECT_URI,
      refreshAllowed: true,
    };
    const grant = { clientId: "some-client", sub: "some-user", scope: ["openid"], authTime: 1 };
    expect(await stub.createPending({ grant, code })).toBe(false); // ...but nothing can be created

    expect(await runDurableObjectAlarm(stub)).toBe(true); // not due: kept
    expect(await stored()).toEqual([["family", expect.objectContaining({ status: "tombstone" })]]);
    await runInDurableObject(stub, (_i: TokenFamily, state) => {
      const s = state.storage.kv.get<FamilyState>("family");
      if (s?.status === "tombstone")
        state.storage.kv.put("family", { ...s, revokedAt: Date.now() - TOMBSTONE_LIFETIME_MS - 1 });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toEqual([]);
  });
});
