import {
  abortAllDurableObjects,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ActiveFamily } from "../../src/families/model";
import type { TokenFamily } from "../../src/families/token-family";
import { Browser, codeFlow, pkce, signInAndAuthorize, type TokenSet } from "../support/browser";
import {
  introspect,
  REDIRECT_URI,
  type RegisteredClient,
  registerClient,
  registerUser,
  revokeRequest,
  tokenRequest,
} from "../support/fixtures";
import { adminCall, basic, call, fetchWith, formBody, ISSUER, json } from "../support/http";
import { familyIdOf, grantWithRefresh, refresh, refreshOk, storedFamily } from "../support/refresh";
import {
  capturingLogs,
  expectJsonError,
  failAfterWrites,
  familySnapshot,
  familyStub,
  restoreWrites,
  unreachableKv,
} from "../support/security";

/**
 * Faults: an exception inside the family's Durable Object halfway through an
 * operation, a Durable Object restarted between operations, and KV that
 * cannot be read. The family applies every operation inside one
 * `transactionSync`; `failAfterWrites` patches the running instance's storage
 * so that its write lands and then throws, inside that transaction. While it
 * is patched, only the operation under test writes to that family.
 */

const injectFault = (familyId: string) => failAfterWrites(familyStub(familyId));
const clearFault = (familyId: string) => restoreWrites(familyStub(familyId));

/** A 500 that says nothing: server_error, an error id, no token, no stack; and logs without secrets. */
async function expectBareServerError(
  run: () => Promise<Response>,
  secrets: string[],
): Promise<void> {
  const { result: res, lines } = await capturingLogs(run);
  const body = await expectJsonError(res, 500, "server_error", secrets);
  const errorId = /error id ([0-9a-f]{16})/.exec(body.error_description)?.[1];
  expect(errorId, body.error_description).toBeTruthy();
  expect(body.error_description).not.toMatch(/injected|fault|Error|at /);
  // The log line that explains the 500 carries the same id, and no secret either.
  expect(lines.some((line) => line.includes(errorId as string))).toBe(true);
  for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
}

const secretsOf = (client: RegisteredClient, tokens: TokenSet) =>
  [tokens.refresh_token, tokens.access_token, tokens.id_token, client.client_secret].filter(
    (s): s is string => typeof s === "string",
  );

describe("an exception inside the family's Durable Object leaves its state as it was (transactionSync rolls back)", () => {
  it("refresh: 500 server_error, storage byte-identical, and the same refresh token then works exactly once", async () => {
    // No grace window: had the failed rotation been kept, presenting the token again would be a replay.
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
    const before = await familySnapshot(grant.familyId);

    await injectFault(grant.familyId);
    await expectBareServerError(
      () => refresh(grant.client, grant.refreshToken),
      secretsOf(grant.client, grant.tokens),
    );
    expect(await familySnapshot(grant.familyId)).toBe(before);

    await clearFault(grant.familyId);
    const next = await refreshOk(grant.client, grant.refreshToken);
    expect(next.refresh_token).not.toBe(grant.refreshToken);
    expect(await familySnapshot(grant.familyId), "a real rotation shows in the snapshot").not.toBe(
      before,
    );
    const again = await refresh(grant.client, grant.refreshToken);
    await expectJsonError(again, 400, "invalid_grant");
  });

  it("redeem: 500 server_error, the code stays pending, and then redeems once", async () => {
    const client = await registerClient({ consent: "implicit" });
    const user = await registerUser();
    const { verifier, challenge } = await pkce();
    const redirect = await signInAndAuthorize(new Browser(), client, user, { challenge });
    const code = redirect.searchParams.get("code") as string;
    const familyId = familyIdOf(code);
    const redeem = () =>
      tokenRequest(client, {
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      });
    const before = await familySnapshot(familyId);
    expect(before).toContain('"status":"pending"');

    await injectFault(familyId);
    await expectBareServerError(redeem, [code, verifier, client.client_secret as string]);
    expect(await familySnapshot(familyId)).toBe(before);

    await clearFault(familyId);
    const res = await redeem();
    expect(res.status, await res.clone().text()).toBe(200);
    await expectJsonError(await redeem(), 400, "invalid_grant");
  });

  it("revocation with a token (RFC 7009): 500 server_error, the family still live, and then the revocation works", async () => {
    const grant = await grantWithRefresh();
    const before = await familySnapshot(grant.familyId);

    await injectFault(grant.familyId);
    await expectBareServerError(
      () => revokeRequest(grant.client, { token: grant.refreshToken }),
      secretsOf(grant.client, grant.tokens),
    );
    expect(await familySnapshot(grant.familyId)).toBe(before);
    expect(await introspect(grant.client, grant.refreshToken)).toMatchObject({ active: true });
    expect(await introspect(grant.client, grant.tokens.access_token)).toMatchObject({
      active: true,
    });

    await clearFault(grant.familyId);
    expect((await revokeRequest(grant.client, { token: grant.refreshToken })).status).toBe(200);
    await expectJsonError(await refresh(grant.client, grant.refreshToken), 400, "invalid_grant");
    expect(await introspect(grant.client, grant.tokens.access_token)).toEqual({ active: false });
  });

  it("an admin revoking a grant: 500 server_error, the grant untouched, and then it is revoked", async () => {
    const grant = await grantWithRefresh();
    const before = await familySnapshot(grant.familyId);
    const path = `/admin/users/${grant.user.id}/grants/${grant.familyId}`;

    await injectFault(grant.familyId);
    await expectBareServerError(
      () => adminCall("DELETE", path),
      secretsOf(grant.client, grant.tokens),
    );
    expect(await familySnapshot(grant.familyId)).toBe(before);

    await clearFault(grant.familyId);
    expect((await adminCall("DELETE", path)).status).toBe(204);
    await expectJsonError(await refresh(grant.client, grant.refreshToken), 400, "invalid_grant");
  });

  it("blocking a user fails loudly when one family cannot be revoked, and the user's alarm finishes the job", async () => {
    const user = await registerUser();
    const browser = new Browser();
    const clients = [
      await registerClient({ consent: "implicit" }),
      await registerClient({ consent: "implicit" }),
    ];
    const grants: { client: RegisteredClient; tokens: TokenSet }[] = [];
    for (const client of clients)
      grants.push({ client, tokens: await codeFlow(client, user, { browser }) });
    const faulty = familyIdOf(grants[1]?.tokens.refresh_token as string);
    const before = await familySnapshot(faulty);

    await injectFault(faulty);
    const failed = await capturingLogs(() => adminCall("POST", `/admin/users/${user.id}/block`));
    await expectJsonError(failed.result, 500, "server_error");
    expect(await familySnapshot(faulty)).toBe(before);

    await clearFault(faulty);
    // No second admin call: the block stored its intent, and the retry alarm completes it.
    expect(await runDurableObjectAlarm(env.USER.getByName(user.id))).toBe(true);
    expect(await runDurableObjectAlarm(env.USER.getByName(user.id))).toBe(false); // done: no alarm left
    for (const { client, tokens } of grants) {
      await expectJsonError(
        await refresh(client, tokens.refresh_token as string),
        400,
        "invalid_grant",
      );
      expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    }
  });
});

describe("a family Durable Object restarted between operations keeps working from its storage", () => {
  it("evicted between refreshes: rotation, the grace window and reuse detection all carry on", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 30 } } });
    const stub = familyStub(grant.familyId);

    const first = await refreshOk(grant.client, grant.refreshToken);
    await evictDurableObject(stub);
    const second = await refreshOk(grant.client, first.refresh_token as string);
    expect(second.refresh_token).not.toBe(first.refresh_token);

    await evictDurableObject(stub);
    // Grace window (the successor is sealed in storage): the same successor again.
    const retried = await refreshOk(grant.client, first.refresh_token as string);
    expect(retried.refresh_token).toBe(second.refresh_token);

    await evictDurableObject(stub);
    // Two generations back: a replay, which revokes the family.
    await expectJsonError(await refresh(grant.client, grant.refreshToken), 400, "invalid_grant");
    await evictDurableObject(stub).catch(() => undefined);
    await expectJsonError(
      await refresh(grant.client, second.refresh_token as string),
      400,
      "invalid_grant",
    );
  });

  it("after every Durable Object is aborted, a refresh works and in-memory fault hooks are gone", async () => {
    const grant = await grantWithRefresh({ client: { refresh_token: { grace_seconds: 0 } } });
    const before = await familySnapshot(grant.familyId);
    await injectFault(grant.familyId);
    await abortAllDurableObjects();
    // The instance (and its fault hook) is gone; the storage is not.
    expect(await familySnapshot(grant.familyId)).toBe(before);
    const next = await refreshOk(grant.client, grant.refreshToken);
    expect(await introspect(grant.client, next.refresh_token as string)).toMatchObject({
      active: true,
    });
  });
});

describe("when KV cannot be read, introspection fails closed", () => {
  /** Our own Worker, with one binding replaced by an unreachable KV namespace. */
  const withBrokenKv = (binding: "REVOCATIONS" | "CLIENTS", request: Request) =>
    fetchWith({ [binding]: unreachableKv() }, request);
  const introspection = (client: RegisteredClient, token: string) =>
    new Request(`${ISSUER}/introspect`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: basic(client.client_id, client.client_secret as string),
      },
      body: formBody({ token }),
    });

  it("an access token is reported inactive when the revocation list cannot be read (and active when it can)", async () => {
    const grant = await grantWithRefresh();
    const healthy = await fetchWith({}, introspection(grant.client, grant.tokens.access_token));
    expect(await json(healthy)).toMatchObject({ active: true });

    const { result: res, lines } = await capturingLogs(() =>
      withBrokenKv("REVOCATIONS", introspection(grant.client, grant.tokens.access_token)),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ active: false });
    expect(lines.some((l) => l.includes("revocation_list_unreadable"))).toBe(true);
    for (const line of lines) expect(line).not.toContain(grant.tokens.access_token);
  });

  it("userinfo refuses an access token when the revocation list cannot be read", async () => {
    const grant = await grantWithRefresh();
    const { result: res } = await capturingLogs(() =>
      withBrokenKv(
        "REVOCATIONS",
        new Request(`${ISSUER}/userinfo`, {
          headers: { Authorization: `Bearer ${grant.tokens.access_token}` },
        }),
      ),
    );
    await expectJsonError(res, 401, "invalid_token", [grant.tokens.access_token]);
  });

  it("a refresh token's answer does not depend on the revocation list: its family is the authority", async () => {
    const grant = await grantWithRefresh();
    const res = await withBrokenKv("REVOCATIONS", introspection(grant.client, grant.refreshToken));
    expect(await json(res)).toMatchObject({ active: true, token_type: "refresh_token" });
  });

  it("when the client registry cannot be read, introspection answers 503 temporarily_unavailable, never active", async () => {
    const grant = await grantWithRefresh();
    const { result: res } = await capturingLogs(() =>
      withBrokenKv("CLIENTS", introspection(grant.client, grant.tokens.access_token)),
    );
    expect(res.headers.get("retry-after")).toBe("5");
    await expectJsonError(
      res,
      503,
      "temporarily_unavailable",
      secretsOf(grant.client, grant.tokens),
    );
  });

  it("revoking an access token while the revocation list cannot be written answers 500 (never a false 200), and works once KV is back", async () => {
    const grant = await grantWithRefresh();
    const revoke = new Request(`${ISSUER}/revoke`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: basic(grant.client.client_id, grant.client.client_secret as string),
      },
      body: formBody({ token: grant.tokens.access_token }),
    });
    const { result: failed } = await capturingLogs(() =>
      withBrokenKv("REVOCATIONS", revoke.clone()),
    );
    await expectJsonError(failed, 500, "server_error", secretsOf(grant.client, grant.tokens));
    expect(await introspect(grant.client, grant.tokens.access_token)).toMatchObject({
      active: true,
    });
    expect(
      (
        await call("/revoke", {
          method: "POST",
          headers: revoke.headers,
          body: formBody({ token: grant.tokens.access_token }),
        })
      ).status,
    ).toBe(200);
    expect(await introspect(grant.client, grant.tokens.access_token)).toEqual({ active: false });
  });
});

describe("a revocation whose KV publication keeps failing", () => {
  it("is retried by the family's alarm with back-off for as long as its access tokens can live, then published", async () => {
    const grant = await grantWithRefresh();
    const stub = familyStub(grant.familyId);
    const kvKey = `family:${grant.familyId}`;
    // The revocation list refuses writes for the next FAILURES attempts.
    const FAILURES = 8;
    let refused = 0;
    await runInDurableObject(stub, (instance: TokenFamily) => {
      const own = instance as unknown as { env: Cloudflare.Env };
      const real = own.env.REVOCATIONS;
      const failing = Object.create(real, {
        put: {
          value: (...args: Parameters<KVNamespace["put"]>) => {
            if (refused < FAILURES) {
              refused++;
              return Promise.reject(new Error("injected KV outage"));
            }
            return real.put(...args);
          },
        },
      }) as KVNamespace;
      own.env = { ...own.env, REVOCATIONS: failing };
    });
    const alarmAt = () => runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    const { accessTokensUntil: until } = (await storedFamily(grant.refreshToken)) as ActiveFamily;

    await capturingLogs(async () => {
      expect(await stub.revoke("admin", "test:revoke")).toBe(true);
      let previousGap = 0;
      for (let attempt = 1; attempt < FAILURES; attempt++) {
        const before = Date.now();
        expect(await runDurableObjectAlarm(stub), `alarm ${attempt} ran`).toBe(true);
        const next = (await alarmAt()) as number;
        // Another attempt is scheduled, later each time, never after the tokens' end.
        expect(next, `retry ${attempt} scheduled`).toBeGreaterThan(before);
        expect(next).toBeLessThanOrEqual(until);
        expect(next - before).toBeGreaterThanOrEqual(previousGap);
        previousGap = next - before;
        expect(await env.REVOCATIONS.get(kvKey)).toBeNull();
      }
      // KV is back: the next attempt publishes, and only the clean-up is left.
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await env.REVOCATIONS.get(kvKey)).not.toBeNull();
      expect(await alarmAt()).toBe(until);
    });
    expect(refused).toBe(FAILURES);
  });
});
