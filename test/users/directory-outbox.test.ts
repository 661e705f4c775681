import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { UserRecord, UserView } from "../../src/users/model";
import type { User } from "../../src/users/user";
import { adminCall, json } from "../support/http";
import { capturingLogs } from "../support/security";

/**
 * The User object is the truth about an account, and the user directory a
 * copy that must converge to it: when the directory does not take a write,
 * the User object's alarm sends it again, backing off, until it does; a
 * deleted account's row goes too; an account stored before the directory
 * existed lists itself when its object next wakes.
 */

const userStub = (id: string): DurableObjectStub<User> => env.USER.getByName(id);

async function create(username: string, email?: string): Promise<UserView> {
  const res = await adminCall("POST", "/admin/users", {
    username,
    password: "a long enough password",
    ...(email ? { email } : {}),
  });
  expect(res.status).toBe(201);
  return json<UserView>(res);
}

/** What the directory lists under this username prefix. */
async function listed(prefix: string, by = "username"): Promise<UserView[]> {
  const res = await adminCall("GET", `/admin/users?by=${by}&q=${encodeURIComponent(prefix)}`);
  expect(res.status).toBe(200);
  return (await json<{ users: UserView[] }>(res)).users;
}

/**
 * From now on the running User object's directory refuses the next
 * `failures` writes (an outage of the directory object), then works again.
 * Only this in-memory instance is changed; returns how many were refused.
 */
async function directoryDown(id: string, failures: number): Promise<() => number> {
  let refused = 0;
  await runInDurableObject(userStub(id), (instance: User) => {
    const own = instance as unknown as { env: Cloudflare.Env };
    const real = own.env.USER_DIRECTORY;
    const refuse =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        if (refused < failures) {
          refused++;
          return Promise.reject(new Error("injected directory outage"));
        }
        return call(...args);
      };
    const failing = Object.create(real, {
      getByName: {
        value: (name: string) => {
          const stub = real.getByName(name);
          return {
            put: refuse((...args: Parameters<typeof stub.put>) => stub.put(...args)),
            remove: refuse((...args: Parameters<typeof stub.remove>) => stub.remove(...args)),
          };
        },
      },
    }) as typeof real;
    own.env = { ...own.env, USER_DIRECTORY: failing };
  });
  return () => refused;
}

const alarmAt = (id: string) =>
  runInDurableObject(userStub(id), (_instance, state) => state.storage.getAlarm());

/**
 * Runs the User object's alarm until `done()` (at most `max` times); each
 * time the directory has not converged, another attempt must be scheduled,
 * no sooner after the last than the one before (back-off), at most 5
 * minutes ahead. Returns how many runs it took.
 */
async function alarmUntil(id: string, done: () => Promise<boolean>, max = 10): Promise<number> {
  let previousGap = 0;
  for (let run = 1; run <= max; run++) {
    expect(await runDurableObjectAlarm(userStub(id)), `alarm ${run} was scheduled`).toBe(true);
    if (await done()) return run;
    const before = Date.now();
    const next = (await alarmAt(id)) as number;
    expect(next, `retry ${run} scheduled`).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(5 * 60_000);
    expect(next - before + 1_000).toBeGreaterThanOrEqual(previousGap);
    previousGap = next - before;
  }
  throw new Error(`the directory did not converge in ${max} alarm runs`);
}

describe("the User object is the truth; the directory converges to it", () => {
  it("an update the directory did not take is answered anyway, and reaches the list by the User object's alarm, backing off", async () => {
    const p = `ob${crypto.randomUUID().slice(0, 8)}`;
    const user = await create(`${p}-u`, `${p}.old@example.test`);
    const refused = await directoryDown(user.id, 4);

    const { lines } = await capturingLogs(async () => {
      const res = await adminCall("PATCH", `/admin/users/${user.id}`, {
        email: `${p}.new@example.test`,
      });
      expect(res.status).toBe(200);
      expect((await json<UserView>(res)).email).toBe(`${p}.new@example.test`);
      // The account has changed; the directory has not yet.
      expect((await listed(p))[0]?.email).toBe(`${p}.old@example.test`);
      const runs = await alarmUntil(
        user.id,
        async () => (await listed(`${p}.new`, "email")).length === 1,
      );
      expect(runs).toBe(4);
    });
    expect(refused()).toBe(4);
    expect((await listed(`${p}.old`, "email")).length).toBe(0);
    const failures = lines.filter((line) => line.includes('"directory_sync_failed"'));
    expect(failures).toHaveLength(4);
    for (const line of failures) {
      expect(line).toContain(user.id);
      expect(line).not.toContain("example.test"); // ids only, never the address
    }
  });

  it("a block the directory did not take still revokes at once, and shows in the list later", async () => {
    const p = `ob${crypto.randomUUID().slice(0, 8)}`;
    const user = await create(`${p}-u`);
    await directoryDown(user.id, 2);
    await capturingLogs(async () => {
      const res = await adminCall("POST", `/admin/users/${user.id}/block`);
      expect((await json<UserView>(res)).blocked).toBe(true);
      expect((await listed(p))[0]?.blocked).toBe(false);
      await alarmUntil(user.id, async () => (await listed(p))[0]?.blocked === true);
    });
  });

  it("a deleted account is gone at once, and its row as soon as the directory takes the removal; nothing is left of it", async () => {
    const p = `ob${crypto.randomUUID().slice(0, 8)}`;
    const user = await create(`${p}-u`, `${p}@example.test`);
    await directoryDown(user.id, 3);
    await capturingLogs(async () => {
      expect((await adminCall("DELETE", `/admin/users/${user.id}`)).status).toBe(204);
      expect((await adminCall("GET", `/admin/users/${user.id}`)).status).toBe(404);
      expect((await listed(p)).map((u) => u.id)).toEqual([user.id]);
      await alarmUntil(user.id, async () => (await listed(p)).length === 0);
    });
    expect(await listed(p, "email")).toEqual([]);
    const left = await runInDurableObject(userStub(user.id), (_i, state) => [
      ...state.storage.kv.list(),
    ]);
    expect(left).toEqual([]);
  });

  it("an account stored before the directory existed lists itself the next time its object wakes", async () => {
    const p = `ob${crypto.randomUUID().slice(0, 8)}`;
    const sub = crypto.randomUUID();
    const record: UserRecord = {
      sub,
      username: `${p}-legacy`,
      name: "From before",
      email_verified: false,
      password: { alg: "pbkdf2-sha256", iterations: 100_000, salt: "AAAA", hash: "AAAA" },
      blocked: false,
      session_version: 1,
      created_at: 1_700_000_000,
      updated_at: 1_700_000_000,
    };
    // Written straight into storage, as the object of an earlier version kept it.
    await runInDurableObject(userStub(sub), (_instance, state) => {
      state.storage.kv.put("user", record);
      state.storage.kv.delete("directory");
    });
    await evictDurableObject(userStub(sub));
    expect(await listed(p)).toEqual([]);

    expect((await userStub(sub).view())?.id).toBe(sub); // wakes it
    await runDurableObjectAlarm(userStub(sub)); // waits for the send it started
    expect(await listed(p)).toEqual([
      {
        id: sub,
        username: `${p}-legacy`,
        name: "From before",
        email: null,
        email_verified: false,
        blocked: false,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
      },
    ]);
  });
});
