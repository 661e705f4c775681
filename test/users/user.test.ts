import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Browser, codeFlow, type TokenSet } from "../support/browser";
import { type RegisteredClient, registerClient, registerUser } from "../support/fixtures";
import { adminCall } from "../support/http";
import { familyIdOf, refreshRefused, storedFamily } from "../support/refresh";
import {
  capturingLogs,
  expectJsonError,
  failAfterWrites,
  familyStub,
  restoreWrites,
} from "../support/security";

/**
 * The User object's owed revocations (src/users/user.ts with
 * src/users/pending-revocation.ts): a password change, a block and a deletion
 * each revoke every grant of the user, and each stores what it owes first, so
 * that the alarm finishes a pass that died halfway. One of them arriving
 * while another is still owed must lose neither, and a deletion, once asked
 * for, wins over everything that comes after it.
 */

const NEW_PASSWORD = { password: "an entirely new passphrase" };

/** A user with a grant at each of two clients; the second family's writes will fail. */
async function userWithTwoGrants() {
  const user = await registerUser();
  const browser = new Browser();
  const grants: { client: RegisteredClient; tokens: TokenSet }[] = [];
  for (let i = 0; i < 2; i++) {
    const client = await registerClient({ consent: "implicit" });
    grants.push({ client, tokens: await codeFlow(client, user, { browser }) });
  }
  const faulty = familyIdOf(grants[1]?.tokens.refresh_token as string);
  return { user, grants, faulty };
}

/** Runs an admin call while one family cannot be revoked: it fails halfway, with a 500. */
async function interrupted(faulty: string, method: string, path: string, body?: unknown) {
  await failAfterWrites(familyStub(faulty));
  const { result } = await capturingLogs(() => adminCall(method, path, body));
  await restoreWrites(familyStub(faulty));
  await expectJsonError(result, 500, "server_error");
}

const userObject = (id: string) => env.USER.getByName(id);
const storedKeys = (id: string) =>
  runInDurableObject(userObject(id), (_instance, state) =>
    [...state.storage.kv.list()].map(([key]) => key),
  );

describe("a deletion interrupted halfway", () => {
  it.each([
    ["a password change", "PUT", "password", NEW_PASSWORD],
    ["a block", "POST", "block", undefined],
    ["an unblock", "POST", "unblock", undefined],
  ])(
    "is not undone by %s before the alarm: the account is gone, and the alarm deletes it and frees the name",
    async (_what, method, action, body) => {
      const { user, grants, faulty } = await userWithTwoGrants();
      await interrupted(faulty, "DELETE", `/admin/users/${user.id}`);

      // From the moment the deletion was asked for, the account is gone for every purpose...
      expect((await adminCall("GET", `/admin/users/${user.id}`)).status).toBe(404);
      expect((await adminCall(method, `/admin/users/${user.id}/${action}`, body)).status).toBe(404);
      const signIn = await userObject(user.id).checkPassword(user.password);
      expect(signIn.ok).toBe(false);

      // ...and the alarm finishes the deletion, with no further call.
      expect(await runDurableObjectAlarm(userObject(user.id))).toBe(true);
      expect(await storedKeys(user.id)).toEqual([]);
      expect(await runDurableObjectAlarm(userObject(user.id))).toBe(false); // nothing left to do
      for (const { client, tokens } of grants)
        await refreshRefused(client, tokens.refresh_token as string);
      expect(await storedFamily(grants[1]?.tokens.refresh_token as string)).toMatchObject({
        status: "revoked",
        reason: "user_deleted",
      });
      // The name is free again.
      const again = await adminCall("POST", "/admin/users", {
        username: user.username,
        password: "a password for the next owner",
      });
      expect(again.status).toBe(201);
    },
  );

  it("can be asked for again: the retry finishes it at once, as the alarm would", async () => {
    const { user, grants, faulty } = await userWithTwoGrants();
    await interrupted(faulty, "DELETE", `/admin/users/${user.id}`);
    expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(204);
    expect(await storedKeys(user.id)).toEqual([]);
    for (const { client, tokens } of grants)
      await refreshRefused(client, tokens.refresh_token as string);
    expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(404);
  });
});

describe("a block interrupted halfway, then a password change", () => {
  it("loses neither: the block's families are revoked for the block, and once the change's pass is done nothing is owed", async () => {
    const { user, grants, faulty } = await userWithTwoGrants();
    await interrupted(faulty, "POST", `/admin/users/${user.id}/block`);
    expect(await storedFamily(grants[1]?.tokens.refresh_token as string)).toMatchObject({
      status: "active",
    });

    expect((await adminCall("PUT", `/admin/users/${user.id}/password`, NEW_PASSWORD)).status).toBe(
      204,
    );
    for (const { tokens } of grants) {
      expect(await storedFamily(tokens.refresh_token as string)).toMatchObject({
        status: "revoked",
        reason: "user_blocked",
      });
    }
    expect(await storedKeys(user.id)).not.toContain("revocation-pending");
    expect(await runDurableObjectAlarm(userObject(user.id))).toBe(false);
    expect((await adminCall("GET", `/admin/users/${user.id}`)).status).toBe(200);
  });
});
