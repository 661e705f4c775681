/**
 * RFC 9449 §11.1 within one family: the `jti`s of the DPoP proofs that
 * refreshed it, each kept while its proof could still be accepted. A client
 * refreshes rarely, but one that refreshed many times a minute must not grow
 * the family's state: past a few records the oldest is dropped, and every
 * proof acceptable no later than a dropped one is refused from then on (a
 * client's new proof is newer than its earlier ones), so no proof that was
 * accepted can be accepted again.
 */

export const MAX_PROOF_RECORDS = 16;

/** A DPoP proof's `jti`, and when its proof stops being acceptable (ms). */
export interface ProofRecord {
  jti: string;
  until: number;
}

export interface ProofRecords {
  recent: readonly ProofRecord[];
  /** Proofs that stop being acceptable at or before this time (ms) are refused. */
  before: number;
}

/** Whether this proof may already have refreshed the family. */
export function seenBefore(
  records: ProofRecords | undefined,
  proof: ProofRecord,
  now: number,
): boolean {
  if (!records) return false;
  return (
    proof.until <= records.before ||
    records.recent.some((r) => r.jti === proof.jti && r.until > now)
  );
}

/** The records once this proof has refreshed the family. */
export function withProof(
  records: ProofRecords | undefined,
  proof: ProofRecord,
  now: number,
): ProofRecords {
  const recent = [...(records?.recent ?? []).filter((r) => r.until > now), proof];
  let before = records?.before ?? 0;
  while (recent.length > MAX_PROOF_RECORDS) {
    const dropped = recent.shift() as ProofRecord;
    before = Math.max(before, dropped.until);
  }
  return { recent, before };
}
