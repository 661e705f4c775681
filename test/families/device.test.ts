import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  answerDevice,
  createDevice,
  deviceRequestOf,
  type PollDeviceInput,
  pollDevice,
  SLOW_DOWN_SECONDS,
} from "../../src/families/device";
import type { FamilyPolicy, FamilyState, Grant } from "../../src/families/model";
import {
  cleanupAt,
  DEVICE_KEPT_AFTER_EXPIRY_MS,
  revokeFamily,
} from "../../src/families/revocation";

/**
 * The device authorization grant's transitions (src/families/device.ts), pure:
 * RFC 8628 §3.5's answers to each poll, the one redemption, the user's answer.
 */

const T0 = 1_700_000_000_000;
const POLICY: FamilyPolicy = {
  graceSeconds: 0,
  graceNeedsBinding: true,
  absoluteLifetime: 86_400,
  idleLifetime: 0,
};
const GRANT: Grant = { clientId: "tv", sub: "user-1", scope: ["openid"], authTime: 1 };

function created(interval = 5): FamilyState {
  const step = createDevice(
    undefined,
    {
      familyId: "f1",
      device: { hash: "h", clientId: "tv", scope: ["openid"], expiresAt: T0 + 600_000, interval },
    },
    T0,
  );
  return step.state as FamilyState;
}

function approved(): FamilyState {
  let s = created();
  s = answerDevice(s, { clientId: "tv", answer: "claim", sub: "user-1" }, T0).state as FamilyState;
  const step = answerDevice(
    s,
    { clientId: "tv", answer: "approve", grant: GRANT, refreshAllowed: true },
    T0,
  );
  expect(step.result.ok).toBe(true);
  return step.state as FamilyState;
}

const pollInput = (over: Partial<PollDeviceInput> = {}): PollDeviceInput => ({
  codeHash: "h",
  clientId: "tv",
  refresh: { generation: 0, hash: "r0" },
  bindRefreshToProof: false,
  policy: POLICY,
  accessTokenExpiresAt: T0 + 900_000,
  ...over,
});

const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? "ok" : r.reason);

describe("polls (RFC 8628 §3.5)", () => {
  it("the first poll is authorization_pending; one before the interval is slow_down and raises it by 5 s for good", () => {
    let s = created();
    let step = pollDevice(s, pollInput(), T0);
    expect(reasonOf(step.result)).toBe("authorization_pending");
    s = step.state as FamilyState;
    step = pollDevice(s, pollInput(), T0 + 4_999);
    expect(reasonOf(step.result)).toBe("slow_down");
    s = step.state as FamilyState;
    expect(s).toMatchObject({ device: { interval: 10 } });
    // 5 s later is now too early too: the raised interval holds.
    step = pollDevice(s, pollInput(), T0 + 4_999 + 5_000);
    expect(reasonOf(step.result)).toBe("slow_down");
    s = step.state as FamilyState;
    expect(s).toMatchObject({ device: { interval: 15 } });
    step = pollDevice(s, pollInput(), T0 + 9_999 + 15_000);
    expect(reasonOf(step.result)).toBe("authorization_pending");
    expect(step.state).toMatchObject({ device: { interval: 15 } });
  });

  it("any schedule of polls: the interval is the initial one plus 5 s per slow_down, and a poll is slow_down exactly when it came before the interval in force", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 30 }), (gaps) => {
        let s = created();
        let now = T0;
        let last: number | undefined;
        let interval = 5;
        let slowDowns = 0;
        for (const gap of gaps) {
          now += gap;
          const step = pollDevice(s, pollInput(), now);
          const early = last !== undefined && now - last < interval * 1000;
          expect(reasonOf(step.result)).toBe(early ? "slow_down" : "authorization_pending");
          if (early) {
            slowDowns++;
            interval += SLOW_DOWN_SECONDS;
          }
          last = now;
          s = step.state as FamilyState;
          if (now >= T0 + 600_000) break;
        }
        if (s.status === "device") expect(s.device.interval).toBe(5 + 5 * slowDowns);
      }),
    );
  });

  it("approved: the poll turns the family active, with the grant and a refresh token as allowed; every later poll is reuse and revokes it", () => {
    const step = pollDevice(approved(), pollInput(), T0 + 1);
    expect(step.result).toEqual({ ok: true, grant: GRANT, refreshIssued: true });
    expect(step.state).toMatchObject({ status: "active", codeHash: "h", grant: GRANT });
    const again = pollDevice(step.state, pollInput(), T0 + 2);
    expect(reasonOf(again.result)).toBe("reuse_detected");
    expect(again.revoked).toMatchObject({ status: "revoked", reason: "device_code_reuse" });
    const third = pollDevice(again.state, pollInput(), T0 + 3);
    expect(reasonOf(third.result)).toBe("revoked");
  });

  it("denied is access_denied; expired is expired_token (approved or not); another client's poll or another code changes nothing", () => {
    let s = created();
    s = answerDevice(s, { clientId: "tv", answer: "deny" }, T0).state as FamilyState;
    expect(reasonOf(pollDevice(s, pollInput(), T0).result)).toBe("access_denied");
    expect(reasonOf(pollDevice(approved(), pollInput(), T0 + 600_000).result)).toBe("expired");
    const a = approved();
    const other = pollDevice(a, pollInput({ clientId: "radio" }), T0);
    expect(reasonOf(other.result)).toBe("wrong_client");
    expect(other.state).toBe(a);
    const wrong = pollDevice(a, pollInput({ codeHash: "x" }), T0);
    expect(reasonOf(wrong.result)).toBe("code_mismatch");
    expect(wrong.state).toBe(a);
    expect(reasonOf(pollDevice(undefined, pollInput(), T0).result)).toBe("unknown");
  });
});

describe("the user's answer (RFC 8628 §3.3)", () => {
  it("only the user who claimed it approves it, once, for the client the page showed; a claim by a second user is refused", () => {
    const s = created();
    const claimed = answerDevice(s, { clientId: "tv", answer: "claim", sub: "user-1" }, T0);
    expect(claimed.result.ok).toBe(true);
    const c = claimed.state as FamilyState;
    expect(answerDevice(c, { clientId: "tv", answer: "claim", sub: "user-2" }, T0).result.ok).toBe(
      false,
    );
    expect(answerDevice(c, { clientId: "tv", answer: "claim", sub: "user-1" }, T0).result.ok).toBe(
      true,
    );
    const byOther = { ...GRANT, sub: "user-2" };
    const approveAs = (state: FamilyState, grant: Grant, clientId = "tv") =>
      answerDevice(state, { clientId, answer: "approve", grant, refreshAllowed: false }, T0);
    expect(approveAs(c, byOther).result.ok).toBe(false);
    expect(approveAs(s, GRANT).result.ok).toBe(false); // never claimed
    expect(approveAs(c, GRANT, "radio").result.ok).toBe(false);
    const done = approveAs(c, GRANT);
    expect(done.result.ok).toBe(true);
    expect(approveAs(done.state as FamilyState, GRANT).result.ok).toBe(false);
    expect(deviceRequestOf(done.state, T0)).toBeUndefined();
    expect(deviceRequestOf(c, T0)).toEqual({
      clientId: "tv",
      scope: ["openid"],
      expiresAt: T0 + 600_000,
    });
    expect(deviceRequestOf(c, T0 + 600_000)).toBeUndefined();
  });

  it("a user code naming an existing family is refused at creation (the caller draws another)", () => {
    const s = created();
    const again = createDevice(
      s,
      {
        familyId: "f1",
        device: { hash: "z", clientId: "tv", scope: [], expiresAt: T0, interval: 5 },
      },
      T0,
    );
    expect(again.result.ok).toBe(false);
    expect(again.state).toBe(s);
  });
});

describe("revocation and cleanup of a device authorization", () => {
  it("revoking an unapproved one leaves a tombstone that refuses the approval and every poll; an approved one is revoked", () => {
    let s = created();
    s = answerDevice(s, { clientId: "tv", answer: "claim", sub: "user-1" }, T0)
      .state as FamilyState;
    const tomb = revokeFamily(s, { familyId: "f1", reason: "user_blocked" }, T0).state;
    expect(tomb).toMatchObject({ status: "tombstone" });
    expect(
      answerDevice(
        tomb,
        { clientId: "tv", answer: "approve", grant: GRANT, refreshAllowed: true },
        T0,
      ).result.ok,
    ).toBe(false);
    expect(reasonOf(pollDevice(tomb, pollInput(), T0).result)).toBe("revoked");
    const revoked = revokeFamily(approved(), { familyId: "f1", reason: "user_blocked" }, T0);
    expect(revoked.result.revoked).toBe(true);
    expect(reasonOf(pollDevice(revoked.state, pollInput(), T0).result)).toBe("revoked");
  });

  it("is cleaned up a while after it expires, so a late poll still hears expired_token", () => {
    expect(cleanupAt(created())).toBe(T0 + 600_000 + DEVICE_KEPT_AFTER_EXPIRY_MS);
  });
});
