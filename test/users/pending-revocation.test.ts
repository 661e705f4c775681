import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deletes,
  owedAfterPass,
  type PendingRevocations,
  readPending,
  reasonFor,
  request,
  USER_REVOCATIONS,
  type UserRevocation,
} from "../../src/users/pending-revocation";

/**
 * What a User object owes its families (src/users/pending-revocation.ts): the
 * revocations asked for by a password change, a block and a deletion, merged
 * so that none is lost and the strongest wins, as pure functions.
 */

const T0 = 1_700_000_000_000;
const requestArb = fc.record({
  reason: fc.constantFrom<UserRevocation>(...USER_REVOCATIONS),
  at: fc.integer({ min: T0, max: T0 + 10_000 }),
});

describe("revocations a User object owes (properties)", () => {
  it("revokes every family registered up to a request for the strongest reason that covers it, whatever the order of the requests", () => {
    fc.assert(
      fc.property(
        fc.array(requestArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: T0 - 1_000, max: T0 + 11_000 }),
        (requests, createdAt) => {
          let pending: PendingRevocations | undefined;
          for (const { reason, at } of requests) pending = request(pending, reason, at);
          const covering = requests.filter((r) => createdAt <= r.at).map((r) => r.reason);
          const strongest = USER_REVOCATIONS.findLast((reason) => covering.includes(reason));
          expect(reasonFor(pending as PendingRevocations, createdAt)).toBe(strongest);
          // A deletion asked for is never lost, whatever came after it.
          expect(deletes(pending as PendingRevocations)).toBe(
            requests.some((r) => r.reason === "user_deleted"),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a finished pass clears what it ran, never a request merged in while it ran", () => {
    fc.assert(
      fc.property(
        fc.array(requestArb, { minLength: 1, maxLength: 4 }),
        fc.array(requestArb, { maxLength: 4 }),
        (before, during) => {
          let pending: PendingRevocations | undefined;
          for (const { reason, at } of before) pending = request(pending, reason, at);
          const ran = pending as PendingRevocations;
          for (const { reason, at } of during) pending = request(pending, reason, at);
          const owed = owedAfterPass(pending, ran);
          if (during.length === 0) expect(owed).toBeUndefined();
          else expect(owed).toEqual(pending);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("revocations a User object owes (examples)", () => {
  it("keeps the latest time per reason: a block owed for older families stays a block for them", () => {
    let pending = request(undefined, "user_blocked", T0);
    pending = request(pending, "password_changed", T0 + 5_000);
    expect(reasonFor(pending, T0 - 1)).toBe("user_blocked");
    expect(reasonFor(pending, T0 + 1)).toBe("password_changed");
    expect(reasonFor(pending, T0 + 5_001)).toBeUndefined(); // registered after every request
    expect(deletes(pending)).toBe(false);
    pending = request(pending, "user_deleted", T0 + 6_000);
    expect(deletes(pending)).toBe(true);
    expect(reasonFor(pending, T0 - 1)).toBe("user_deleted");
  });

  it("has nothing owed after a pass when nothing was merged in meanwhile, or nothing stored", () => {
    const ran = request(undefined, "password_changed", T0);
    expect(owedAfterPass(ran, ran)).toBeUndefined();
    expect(owedAfterPass(undefined, ran)).toBeUndefined();
  });

  it("reads what an earlier version stored (one reason, a time, whether to delete)", () => {
    expect(readPending({ reason: "user_blocked", before: T0, thenDelete: false })).toEqual({
      before: { user_blocked: T0 },
      seq: 0,
    });
    const deletion = readPending({ reason: "user_deleted", before: T0, thenDelete: true });
    expect(deletion && deletes(deletion)).toBe(true);
    expect(readPending(undefined)).toBeUndefined();
    const current = request(undefined, "user_blocked", T0);
    expect(readPending(current)).toEqual(current);
  });
});
