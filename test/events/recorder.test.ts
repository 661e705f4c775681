import { afterEach, describe, expect, it, vi } from "vitest";
import type { SecurityEvent } from "../../src/events/event";
import { recordSecurityEvents, type SendEvents } from "../../src/events/recorder";
import {
  adminAction,
  audit,
  securityEvent,
  withActor,
  withAuditSink,
  withRequestId,
} from "../../src/log";
import { registerClient } from "../support/fixtures";
import { ADMIN_TOKEN, basic, fetchWith, formBody } from "../support/http";
import { captureLogs } from "../support/revocation";

/**
 * The recorder (src/events/recorder.ts): the security events of one scope go
 * to the store in one batch once its work is done, through waitUntil, never
 * awaited by it, and nothing the store does (throw, reject, hang) changes
 * what the work returns or throws. The sink and the sender are our own
 * functions, so these tests hand it broken ones; the last ones break the
 * real binding under the real Worker.
 */

afterEach(() => vi.restoreAllMocks());

/** A sender that keeps what it was sent, and a waitUntil that keeps what it was given. */
function collecting() {
  const batches: SecurityEvent[][] = [];
  const background: Promise<unknown>[] = [];
  const send: SendEvents = async (events) => {
    batches.push(events);
  };
  return { batches, background, send, waitUntil: (p: Promise<unknown>) => background.push(p) };
}

describe("recordSecurityEvents", () => {
  it("one scope's stored events go in one batch, after its work, with its request id and actor; routine events stay out", async () => {
    const { batches, background, send, waitUntil } = collecting();
    const result = await withRequestId("req-1", () =>
      recordSecurityEvents(send, waitUntil, async () => {
        audit("token.refreshed", { familyId: "f1", clientId: "c1", sub: "u1" });
        securityEvent("refresh.reuse_detected", { familyId: "f1", clientId: "c1", sub: "u1" });
        await Promise.resolve();
        withActor("alice@example.test", () => adminAction("user.blocked", { sub: "u2" }));
        expect(batches, "nothing is sent while the work runs").toEqual([]);
        return "answer";
      }),
    );
    expect(result).toBe("answer");
    await Promise.all(background);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual([
      expect.objectContaining({
        type: "refresh.reuse_detected",
        level: "warn",
        familyId: "f1",
        clientId: "c1",
        sub: "u1",
        requestId: "req-1",
        details: {},
      }),
      expect.objectContaining({
        type: "user.blocked",
        actor: "alice@example.test",
        sub: "u2",
        requestId: "req-1",
      }),
    ]);
  });

  it("an admin action outside withActor is the admin's (the ADMIN_TOKEN credential)", async () => {
    const { batches, background, send, waitUntil } = collecting();
    recordSecurityEvents(send, waitUntil, () => adminAction("client.deleted", { clientId: "c" }));
    await Promise.all(background);
    expect(batches[0]?.[0]).toMatchObject({ type: "client.deleted", actor: "admin" });
  });

  it("an event written after the work is done goes alone; a scope without stored events sends nothing", async () => {
    const { batches, background, send, waitUntil } = collecting();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let written: Promise<void> = Promise.resolve();
    await recordSecurityEvents(send, waitUntil, async () => {
      // Started by the work, in its scope, but written after it is done.
      written = gate.then(() => securityEvent("user.locked_out", { sub: "u", failures: 5 }));
    });
    expect(batches).toEqual([]);
    release();
    await written;
    await Promise.all(background);
    expect(batches.map((b) => b.map((e) => e.type))).toEqual([["user.locked_out"]]);
  });

  it("work that throws throws the same error, and its events are still recorded", async () => {
    const { batches, background, send, waitUntil } = collecting();
    const failure = new Error("the work failed");
    await expect(
      recordSecurityEvents(send, waitUntil, async () => {
        securityEvent("admin.auth_failed", { path: "/admin/users" });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(() =>
      recordSecurityEvents(send, waitUntil, () => {
        securityEvent("registration.auth_failed", {});
        throw failure;
      }),
    ).toThrow(failure);
    await Promise.all(background);
    expect(batches.map((b) => b[0]?.type)).toEqual([
      "admin.auth_failed",
      "registration.auth_failed",
    ]);
  });

  const brokenStores: [string, SendEvents][] = [
    [
      "throws",
      () => {
        throw new Error("store down");
      },
    ],
    ["rejects", () => Promise.reject(new Error("store down"))],
  ];
  for (const [how, send] of brokenStores) {
    it(`a store that ${how}: the work's answer is unchanged, the failure is logged under the request's id`, async () => {
      const logs = captureLogs();
      const background: Promise<unknown>[] = [];
      const result = await withRequestId("req-broken", () =>
        recordSecurityEvents(
          send,
          (p) => background.push(p),
          async () => {
            securityEvent("refresh.reuse_detected", { familyId: "f", clientId: "c", sub: "u" });
            return { ok: true };
          },
        ),
      );
      expect(result).toEqual({ ok: true });
      await Promise.all(background); // the logged failure settles it: nothing left rejected
      const errors = logs.lines().filter((l) => l.event === "security_events_not_recorded");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: "error", requestId: "req-broken", count: 1 });
    });
  }

  it("a store that never answers does not hold the work's answer back", async () => {
    const never: SendEvents = () => new Promise(() => {});
    const answer = recordSecurityEvents(
      never,
      () => {},
      async () => {
        securityEvent("refresh.grace_used", { familyId: "f", clientId: "c", sub: "u" });
        return "refreshed";
      },
    );
    const late = new Promise((r) => setTimeout(() => r("timed out"), 1_000));
    expect(await Promise.race([answer, late])).toBe("refreshed");
  });

  it("a waitUntil that throws (no request to extend) is logged, and the work goes on", async () => {
    const logs = captureLogs();
    const { send } = collecting();
    const result = recordSecurityEvents(
      send,
      () => {
        throw new Error("no context");
      },
      () => {
        securityEvent("user.locked_out", { sub: "u", failures: 5 });
        return 42;
      },
    );
    expect(result).toBe(42);
    expect(logs.lines().some((l) => l.event === "security_events_not_recorded")).toBe(true);
  });

  it("audit() survives a sink that throws: the line is written, the error logged", () => {
    const logs = captureLogs();
    withAuditSink(
      () => {
        throw new Error("sink broke");
      },
      () => securityEvent("user.locked_out", { sub: "u", failures: 5 }),
    );
    const events = logs.lines().map((l) => l.event);
    expect(events).toEqual(["user.locked_out", "audit_sink_failed"]);
  });
});

describe("the Worker with a broken event store (SECURITY_EVENTS)", () => {
  const broken: [string, Cloudflare.Env["SECURITY_EVENTS"]][] = [
    [
      "whose stub cannot be had",
      {
        getByName: () => {
          throw new Error("store down");
        },
      } as unknown as Cloudflare.Env["SECURITY_EVENTS"],
    ],
    [
      "whose record() rejects",
      {
        getByName: () => ({ record: () => Promise.reject(new Error("store down")) }),
      } as unknown as Cloudflare.Env["SECURITY_EVENTS"],
    ],
  ];
  for (const [name, SECURITY_EVENTS] of broken) {
    it(`${name}: a failed client authentication is still 401 invalid_client, an admin action still succeeds`, async () => {
      const logs = captureLogs();
      const client = await registerClient();
      const res = await fetchWith({ SECURITY_EVENTS }, "/token", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Authorization: basic(client.client_id, "not-the-secret"),
        },
        body: formBody({ grant_type: "client_credentials" }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_client");

      const created = await fetchWith({ SECURITY_EVENTS }, "/admin/users", {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          username: `events${crypto.randomUUID().slice(0, 8)}`,
          password: "correct horse battery staple",
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const failures = logs.lines().filter((l) => l.event === "security_events_not_recorded");
      expect(failures.length).toBeGreaterThanOrEqual(2);
    });
  }
});
