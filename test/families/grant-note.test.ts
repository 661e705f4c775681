import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientDirectory } from "../../src/clients/directory";
import { type GrantNote, grantNote } from "../../src/families/grant-note";
import type { FamilyState } from "../../src/families/model";
import type { TokenFamily } from "../../src/families/token-family";
import { revokeRequest } from "../support/fixtures";
import {
  familyStubOf,
  grantWithRefresh,
  refreshOk,
  rewriteFamily,
  storedEntries,
} from "../support/refresh";

/**
 * A family tells the client directory when it becomes a live grant and when
 * it stops being one (src/families/grant-note.ts): off the answer's path,
 * and never lost: a note the directory did not take stays in the family's
 * storage and its alarm sends it again.
 */

const liveGrants = (clientId: string) => clientDirectory(env).liveGrants(clientId);

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  expect(await check()).toBe(true);
}

const note = (token: string) =>
  runInDurableObject(familyStubOf(token), (_i: TokenFamily, state) =>
    state.storage.kv.get<GrantNote>("grant-note"),
  );

/** From now on the running family's directory refuses the next `failures` notes. */
function directoryDown(token: string, failures: number): Promise<void> {
  return runInDurableObject(familyStubOf(token), (instance: TokenFamily) => {
    const own = instance as unknown as { env: Cloudflare.Env };
    const real = own.env.CLIENT_DIRECTORY;
    let refused = 0;
    const failing = Object.create(real, {
      getByName: {
        value: (name: string) => {
          const stub = real.getByName(name);
          return {
            noteGrant: (...args: Parameters<typeof stub.noteGrant>) =>
              refused++ < failures
                ? Promise.reject(new Error("injected directory outage"))
                : stub.noteGrant(...args),
          };
        },
      },
    }) as typeof real;
    own.env = { ...own.env, CLIENT_DIRECTORY: failing };
  });
}

describe("which transitions make a note", () => {
  const grant = { clientId: "c", sub: "s", scope: ["openid"], authTime: 0 };
  const active = {
    status: "active",
    familyId: "f",
    grant,
    codeHash: "h",
    createdAt: 0,
    lastUsedAt: 0,
    expiresAt: 1,
    accessTokensUntil: 1,
    refresh: { current: { generation: 1, hash: "x" } },
  } as FamilyState;
  const pending = {
    status: "pending",
    familyId: "f",
    grant,
    createdAt: 0,
  } as unknown as FamilyState;
  const revoked = {
    status: "revoked",
    familyId: "f",
    grant,
    createdAt: 0,
  } as unknown as FamilyState;
  const { refresh: _r, ...withoutRefresh } = active as Extract<FamilyState, { status: "active" }>;

  it("redeemed with refresh tokens: live; revoked or gone: ended; anything else: none", () => {
    const live = { familyId: "f", clientId: "c", live: true, failures: 0 };
    expect(grantNote(pending, active)).toEqual(live);
    expect(grantNote(active, revoked)).toEqual({ ...live, live: false });
    expect(grantNote(active, undefined)).toEqual({ ...live, live: false });
    expect(grantNote(active, active)).toBeUndefined();
    expect(grantNote(pending, withoutRefresh as FamilyState)).toBeUndefined();
    expect(grantNote(pending, revoked)).toBeUndefined();
    expect(grantNote(undefined, pending)).toBeUndefined();
  });
});

describe("a note the directory did not take", () => {
  it("is kept by the family and sent again by its alarm, until the count is right", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    await eventually(async () => (await liveGrants(client.client_id)) === 1);
    const next = await refreshOk(client, refreshToken);
    await directoryDown(refreshToken, 2);

    const res = await revokeRequest(client, { token: next.refresh_token });
    expect(res.status).toBe(200); // the revocation does not wait for the directory
    await eventually(async () => (await note(refreshToken))?.failures === 1);
    expect(await liveGrants(client.client_id)).toBe(1);
    const alarm = await runInDurableObject(familyStubOf(refreshToken), (_i, s) =>
      s.storage.getAlarm(),
    );
    expect(alarm).not.toBeNull();

    expect(await runDurableObjectAlarm(familyStubOf(refreshToken))).toBe(true); // refused again
    expect((await note(refreshToken))?.failures).toBe(2);
    expect(await runDurableObjectAlarm(familyStubOf(refreshToken))).toBe(true);
    expect(await note(refreshToken)).toBeUndefined();
    expect(await liveGrants(client.client_id)).toBe(0);
  });
});

describe("an expired grant", () => {
  it("leaves the count when its alarm cleans the family up, and leaves nothing behind", async () => {
    const { client, refreshToken } = await grantWithRefresh();
    await eventually(async () => (await liveGrants(client.client_id)) === 1);
    // Test setup: the family and its last access token expired a second ago.
    await rewriteFamily(refreshToken, (s) =>
      s.status === "active"
        ? { ...s, expiresAt: Date.now() - 1_000, accessTokensUntil: Date.now() - 1_000 }
        : s,
    );
    expect(await runDurableObjectAlarm(familyStubOf(refreshToken))).toBe(true);
    expect(await liveGrants(client.client_id)).toBe(0);
    expect(await storedEntries(refreshToken)).toEqual([]);
  });
});
