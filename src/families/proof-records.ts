/**
 * RFC 9449 §11.1 inside one family: "Servers SHOULD store, in the context of
 * the target URI, the jti value of each DPoP proof for the time window in
 * which the respective DPoP proof JWT would be accepted". A refresh whose
 * proof carries this family's nonce (src/dpop/nonce.ts) has its `jti`
 * recorded here, in the transaction that uses it, instead of in a Durable
 * Object of its own: no second call on the hot path.
 *
 * Why that is exact: a family nonce names the family (an HMAC over its id)
 * and an epoch of these records. The token endpoint accepts a proof carrying
 * one only for a refresh of that family (src/dpop/replay.ts), and the family
 * accepts it only while it keeps the records of the epoch it names (the
 * current or the previous one), checking and recording its `jti` in one
 * transaction. Epochs only go up, so once a proof's epoch is dropped it is
 * refused for good. Every other proof is recorded per key, before any grant
 * runs. A proof's nonce is signed, so it belongs to one of the two records,
 * and each accepts it once.
 *
 * The records stay small whatever a client does: an epoch holds at most
 * PROOFS_PER_EPOCH proofs, and then the next one begins; the previous epoch
 * takes as many again from proofs made before it ended (a retry whose answer
 * was lost), and no more; a record is dropped once its proof could no longer
 * be accepted anyway (its `iat` is too old), and a proof that old is not
 * taken (it would be forgotten at once).
 */

export const PROOFS_PER_EPOCH = 8;

/**
 * How long after its proof's last acceptable moment a record is kept: the
 * Worker that checked the proof's `iat` and this object may not read the
 * same clock.
 */
const CLOCK_MARGIN_MS = 60_000;

/** A recorded proof: its `jti`, and when the proof stops being acceptable (ms). */
export interface ProofRecord {
  jti: string;
  until: number;
}

export interface ProofRecords {
  /** The epoch this family's nonces name now. */
  epoch: number;
  /** The proofs accepted that named `epoch`. */
  current: readonly ProofRecord[];
  /** The proofs accepted that named `epoch - 1`. */
  previous: readonly ProofRecord[];
}

/** A proof the family is to record: its record, and the epoch its nonce names. */
export interface ProofClaim extends ProofRecord {
  epoch: number;
}

export type ProofAdmission =
  | { ok: true; records: ProofRecords }
  /**
   * proof_replayed: this proof was accepted before. proof_stale: its nonce
   * names an epoch whose records are gone or full (or one never handed out),
   * or the proof is too old to be remembered: the client is to retry with a
   * new proof and the family's current nonce.
   */
  | { ok: false; reason: "proof_replayed" | "proof_stale" };

/** The epoch a family's nonces name now. */
export const epochOf = (records: ProofRecords | undefined): number => records?.epoch ?? 0;

/** Whether `proof` may be accepted, and the records once it is. */
export function admitProof(
  records: ProofRecords | undefined,
  proof: ProofClaim,
  now: number,
): ProofAdmission {
  const epoch = epochOf(records);
  const live = (list: readonly ProofRecord[] | undefined) =>
    (list ?? []).filter((r) => r.until + CLOCK_MARGIN_MS > now);
  // Too old to be remembered is too old to be accepted: its record would be
  // dropped at once, and a replay would then pass.
  if (proof.until + CLOCK_MARGIN_MS <= now) return { ok: false, reason: "proof_stale" };
  const record = { jti: proof.jti, until: proof.until };
  let current = live(records?.current);
  let previous = live(records?.previous);
  const named = proof.epoch === epoch ? current : proof.epoch === epoch - 1 ? previous : undefined;
  if (!named) return { ok: false, reason: "proof_stale" };
  if (named.some((r) => r.jti === proof.jti)) return { ok: false, reason: "proof_replayed" };
  // The previous epoch takes one epoch's worth of late proofs, no more.
  if (named === previous && previous.length >= 2 * PROOFS_PER_EPOCH) {
    return { ok: false, reason: "proof_stale" };
  }
  if (named === current) current = [...current, record];
  else previous = [...previous, record];
  if (current.length >= PROOFS_PER_EPOCH) {
    return { ok: true, records: { epoch: epoch + 1, current: [], previous: current } };
  }
  return { ok: true, records: { epoch, current, previous } };
}
