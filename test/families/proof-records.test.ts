import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  admitProof,
  epochOf,
  PROOFS_PER_EPOCH,
  type ProofRecords,
} from "../../src/families/proof-records";

/**
 * The family's own record of the DPoP proofs that carry its nonce (RFC 9449
 * §11.1): a proof is accepted once, a proof of a dropped epoch never, and
 * the record stays small whatever the client sends.
 */

const T0 = 1_800_000_000_000;
const LIVE = T0 + 3_600_000; // a proof still acceptable throughout

describe("admitting a proof into a family's records", () => {
  it("accepts a new jti for the current epoch and refuses it the second time", () => {
    const first = admitProof(undefined, { jti: "a", until: LIVE, epoch: 0 }, T0);
    expect(first).toMatchObject({ ok: true, records: { epoch: 0, current: [{ jti: "a" }] } });
    if (!first.ok) return;
    expect(admitProof(first.records, { jti: "a", until: LIVE, epoch: 0 }, T0)).toEqual({
      ok: false,
      reason: "proof_replayed",
    });
  });

  it(`begins a new epoch after ${PROOFS_PER_EPOCH} proofs; the previous one's proofs stay refused, and late ones of it are taken while it has room`, () => {
    let records: ProofRecords | undefined;
    for (let i = 0; i < PROOFS_PER_EPOCH; i++) {
      const step = admitProof(records, { jti: `p${i}`, until: LIVE, epoch: 0 }, T0);
      if (!step.ok) throw new Error(step.reason);
      records = step.records;
    }
    expect(epochOf(records)).toBe(1);
    expect(admitProof(records, { jti: "p3", until: LIVE, epoch: 0 }, T0)).toMatchObject({
      ok: false,
      reason: "proof_replayed",
    });
    // A retry made before the epoch ended (its answer lost) is taken, up to an epoch's worth.
    for (let i = 0; i < PROOFS_PER_EPOCH; i++) {
      const late = admitProof(records, { jti: `late${i}`, until: LIVE, epoch: 0 }, T0);
      if (!late.ok) throw new Error(late.reason);
      records = late.records;
    }
    expect(admitProof(records, { jti: "one-more", until: LIVE, epoch: 0 }, T0)).toMatchObject({
      ok: false,
      reason: "proof_stale",
    });
    expect(admitProof(records, { jti: "one-more", until: LIVE, epoch: 1 }, T0).ok).toBe(true);
  });

  it("refuses an epoch two back, or one never handed out", () => {
    const records: ProofRecords = { epoch: 5, current: [], previous: [] };
    for (const epoch of [3, 0, 6, 99]) {
      expect(admitProof(records, { jti: "x", until: LIVE, epoch }, T0)).toMatchObject({
        ok: false,
        reason: "proof_stale",
      });
    }
  });

  it("takes no proof too old to be remembered (it would be forgotten at once, and a replay pass)", () => {
    expect(admitProof(undefined, { jti: "x", until: T0, epoch: 0 }, T0 + 60_000)).toMatchObject({
      ok: false,
      reason: "proof_stale",
    });
  });

  it("forgets a proof only once it can no longer be accepted (a minute's margin for clocks)", () => {
    const records: ProofRecords = {
      epoch: 0,
      current: [{ jti: "old", until: T0 }],
      previous: [],
    };
    expect(admitProof(records, { jti: "old", until: T0, epoch: 0 }, T0 + 59_000).ok).toBe(false);
    const later = admitProof(records, { jti: "n", until: LIVE, epoch: 0 }, T0 + 61_000);
    expect(later).toMatchObject({ ok: true, records: { current: [{ jti: "n" }] } });
  });

  it("never accepts one proof twice, and never holds more than an epoch and the one before (with its late proofs), under any sequence (fast-check)", () => {
    const claim = fc.record({
      jti: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"),
      epochBack: fc.integer({ min: -1, max: 3 }), // epoch named, relative to the current
    });
    fc.assert(
      fc.property(fc.array(claim, { maxLength: 80 }), (claims) => {
        let records: ProofRecords | undefined;
        // What was accepted, by jti and the epoch its nonce named (one proof each).
        const accepted = new Set<string>();
        for (const { jti, epochBack } of claims) {
          const epoch = epochOf(records) - epochBack;
          if (epoch < 0) continue;
          const step = admitProof(records, { jti, until: LIVE, epoch }, T0);
          const proof = `${jti}@${epoch}`;
          if (step.ok) {
            expect(accepted.has(proof)).toBe(false);
            accepted.add(proof);
            expect(epochOf(step.records)).toBeGreaterThanOrEqual(epochOf(records));
            records = step.records;
          }
          const held = (records?.current.length ?? 0) + (records?.previous.length ?? 0);
          expect(held).toBeLessThanOrEqual(3 * PROOFS_PER_EPOCH);
        }
      }),
      { numRuns: 300 },
    );
  });
});
