import { nowSeconds } from "../lib/time";
import { currentNonce, nonceIsFresh } from "./nonce";
import { type Proof, type ProofTarget, verifyProof } from "./proof";

/**
 * A request's DPoP proof, checked (RFC 9449 §4.3): its form and signature
 * (./proof.ts) and the server's nonce (§8, §9); that its `jti` was never
 * accepted before (§11.1) is ./replay.ts's. What a surface makes of the outcome (a
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
 * Form, signature, target and nonce; not replay, which the caller records
 * where the request's context is (./replay.ts).
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
