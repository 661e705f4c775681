import { OAuthError } from "../errors";
import { nowSeconds } from "../lib/time";
import { currentNonce, familyOfNonce } from "./nonce";
import type { Proof } from "./proof";

/**
 * RFC 9449 §11.1: "Servers SHOULD store, in the context of the target URI,
 * the jti value of each DPoP proof for the time window in which the
 * respective DPoP proof JWT would be accepted and decline HTTP requests to
 * the same URI for which the jti value has been seen before." Exactly, in
 * one of two records, chosen by the proof's own (signed) nonce:
 *
 * - a proof carrying a family nonce (./nonce.ts) is recorded by that family,
 *   in the transaction of the refresh that uses it
 *   (src/families/proof-records.ts), and is accepted nowhere else;
 * - every other proof is recorded per key (`spendProof`) before the request
 *   uses anything.
 */

/** What a replayed proof is told (invalid_dpop_proof). */
export const REPLAYED_PROOF = "This DPoP proof was already used (its jti is not new).";

/**
 * The per-key record: one Durable Object per key (named by its thumbprint),
 * whose check-and-record is one transaction, so of parallel replays of one
 * proof exactly one is accepted, in whichever isolate. True the first time.
 */
export function spendProof(env: Env, proof: Proof): Promise<boolean> {
  return env.REPLAY_GUARD.getByName(`dpop:${proof.jkt}`).consume(proof.jti, proof.until);
}

/** Where a token-endpoint proof's `jti` is to be recorded. */
export type ProofRecording =
  /** By the family the request refreshes, under the epoch its nonce names. */
  | { by: "family"; familyId: string; epoch: number }
  /** Per key (`spendAtKey`), as soon as the proof is checked. */
  | { by: "key" };

/** A proof at the token endpoint, with where its `jti` is recorded. */
export type TokenEndpointProof = Proof & { recording: ProofRecording };

const OTHER_GRANT_NONCE =
  "This DPoP nonce was handed out for another grant: retry with the nonce of the DPoP-Nonce header.";

/**
 * Settles where a token-endpoint proof is recorded, before the client is
 * authenticated (so a use_dpop_nonce retry costs it nothing, as in
 * src/http/dpop.ts). `familyId`: the family the request refreshes, as its
 * refresh token claims (the gateway checks the claim when it opens the
 * token); undefined for any other grant. A family nonce for anything but a
 * refresh of its own family is answered use_dpop_nonce (RFC 9449 §8) with the
 * server's nonce: the retry is then recorded per key.
 */
export async function proofRecording(
  env: Env,
  proof: Proof,
  familyId: string | undefined,
): Promise<ProofRecording> {
  // The nonce passed nonceIsFresh (./check.ts): a family nonce in it was made here.
  const named = proof.nonce !== undefined ? familyOfNonce(proof.nonce) : undefined;
  if (!named) return { by: "key" };
  if (named.familyId !== familyId) throw await otherGrantNonce(env);
  return { by: "family", familyId, epoch: named.epoch };
}

/** use_dpop_nonce for a family nonce presented where it is not its family's. */
export const otherGrantNonce = async (env: Env): Promise<OAuthError> =>
  new OAuthError("use_dpop_nonce", OTHER_GRANT_NONCE, {
    headers: { "DPoP-Nonce": await currentNonce(env, nowSeconds()) },
  });

/** The per-key record, before any step uses anything (a refused replay changes nothing). */
export async function spendAtKey(env: Env, proof: Proof): Promise<void> {
  if (!(await spendProof(env, proof))) throw new OAuthError("invalid_dpop_proof", REPLAYED_PROOF);
}
