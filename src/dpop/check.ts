import { nowSeconds } from "../lib/time";
import { currentNonce, nonceIsFresh } from "./nonce";
import { type Proof, type ProofTarget, verifyProof } from "./proof";

/**
 * A request's DPoP proof, checked (RFC 9449 §4.3): its form and signature
 * (./proof.ts), the server's nonce (§8, §9), and (`spendProof`) that its
 * `jti` was never accepted before (§11.1). What a surface makes of the outcome (a
 * 400 at the token endpoint, a 401 with a `DPoP` challenge at a resource) is
 * the surface's.
 */

export type DpopCheck =
  /** The request has no DPoP header. */
  | { kind: "absent" }
  | { kind: "valid"; proof: Proof }
  /** invalid_dpop_proof. */
  | { kind: "invalid"; description: string }
  /** use_dpop_nonce: the client is to retry with `nonce`. */
  | { kind: "nonce"; nonce: string; description: string };

export interface DpopRequirements {
  /** A proof without a fresh server nonce is refused (use_dpop_nonce). */
  requireNonce: boolean;
}

/**
 * RFC 9449 §11.1: "Servers SHOULD store ... the jti value of each DPoP proof
 * for the time window in which the respective DPoP proof JWT would be
 * accepted." Where no grant's family records it (a refresh's family does, in
 * its own transaction), the record is one Durable Object per key (named by
 * its thumbprint), whose check-and-record is one transaction: of parallel
 * replays of one proof, exactly one is accepted, in whichever isolate.
 * True the first time.
 */
export function spendProof(env: Env, proof: Proof): Promise<boolean> {
  return env.REPLAY_GUARD.getByName(`dpop:${proof.jkt}`).consume(proof.jti, proof.until);
}

/**
 * Form, signature, target and nonce; not replay, which the caller records
 * where the request's context is (`spendProof`, or a family's refresh).
 */
export async function checkDpop(
  env: Env,
  request: Request,
  target: Omit<ProofTarget, "now">,
  requirements: DpopRequirements,
): Promise<DpopCheck> {
  const header = request.headers.get("dpop");
  if (header === null) return { kind: "absent" };
  const now = nowSeconds();
  const verified = await verifyProof(header, { ...target, now });
  if (!verified.ok) return { kind: "invalid", description: verified.description };
  const { proof } = verified;
  // §4.3 item 10: "if the server provided a nonce value to the client, the
  // nonce claim matches the server-provided nonce value". A stale nonce is
  // answered with a fresh one, even where nonces are not required.
  if (
    proof.nonce === undefined
      ? requirements.requireNonce
      : !(await nonceIsFresh(env, proof.nonce, now))
  ) {
    return {
      kind: "nonce",
      nonce: await currentNonce(env, now),
      description:
        proof.nonce === undefined
          ? "A DPoP nonce is required: retry with the nonce of the DPoP-Nonce header."
          : "The DPoP nonce has expired: retry with the nonce of the DPoP-Nonce header.",
    };
  }
  return { kind: "valid", proof };
}

/** The nonce a response hands on (`DPoP-Nonce`, RFC 9449 §8.2), so clients keep a current one. */
export const nonceForResponse = (env: Env): Promise<string> => currentNonce(env, nowSeconds());

/** What a replayed proof is told (invalid_dpop_proof). */
export const REPLAYED_PROOF = "This DPoP proof was already used (its jti is not new).";
