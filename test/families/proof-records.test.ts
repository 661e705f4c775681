import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_PROOF_RECORDS,
  type ProofRecords,
  seenBefore,
  withProof,
} from "../../src/families/proof-records";

/**
 * A family's record of the DPoP proofs that refreshed it (RFC 9449 §11.1):
 * bounded in size, and never forgetting a proof while it could be accepted.
 */

const WINDOW = 61_000;

describe("a family's proof records", () => {
  it("stay small however often the family is refreshed", () => {
    let records: ProofRecords | undefined;
    for (let i = 0; i < 1000; i++) {
      const now = 1_000_000 + i * 10;
      records = withProof(records, { jti: `j${i}`, until: now + WINDOW }, now);
    }
    expect(records?.recent.length).toBe(MAX_PROOF_RECORDS);
  });

  it("never accept a proof twice while it could be accepted, whatever the order of arrival (property)", () => {
    fc.assert(
      fc.property(
        // Each proof: made at some time, arriving a little later, maybe sent again later still.
        fc.array(
          fc.record({
            made: fc.integer({ min: 0, max: 120_000 }),
            delay: fc.integer({ min: 0, max: 5_000 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        fc.array(fc.record({ index: fc.nat(), after: fc.integer({ min: 0, max: 60_000 }) }), {
          maxLength: 30,
        }),
        (proofs, replays) => {
          const events = proofs.map((p, i) => ({
            jti: `j${i}`,
            until: p.made + WINDOW,
            at: p.made + p.delay,
          }));
          for (const r of replays) {
            const original = events[r.index % proofs.length];
            if (original) events.push({ ...original, at: original.at + r.after });
          }
          events.sort((a, b) => a.at - b.at);
          let records: ProofRecords | undefined;
          const accepted = new Set<string>();
          for (const e of events) {
            if (e.until <= e.at) continue; // too old: refused before the family
            if (seenBefore(records, e, e.at)) continue;
            expect(accepted.has(e.jti), `${e.jti} accepted twice`).toBe(false);
            accepted.add(e.jti);
            records = withProof(records, e, e.at);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accept a client's proofs made one after another, however many", () => {
    let records: ProofRecords | undefined;
    for (let i = 0; i < 50; i++) {
      const now = 1_000_000 + i * 1_000;
      const proof = { jti: `j${i}`, until: now + WINDOW };
      expect(seenBefore(records, proof, now)).toBe(false);
      records = withProof(records, proof, now);
    }
  });
});
