import type { ActiveFamily, Refusal } from "./model";

/**
 * What binds a public client's refresh tokens to their holder: the key of
 * the DPoP proof (RFC 9449 §5) and the TLS client certificate (RFC 8705 §4)
 * the redeeming request proved possession of. Pure; the transitions in
 * ./state.ts apply it.
 */

/** What a token request proved possession of. */
export interface PresentedProofs {
  /** The thumbprint of the key of the request's DPoP proof, if it had one. */
  proofJkt?: string;
  /** The `x5t#S256` of the request's TLS client certificate, if it had one. */
  certX5t?: string;
}

/**
 * The family's binding, from the request that redeems its code. RFC 9449
 * §5: "When an authorization server supporting DPoP issues a refresh token
 * to a public client that presents a valid DPoP proof at the token endpoint,
 * the refresh token MUST be bound to the respective public key." RFC 8705
 * §4: "When the authorization server issues a refresh token to such a
 * client, it SHOULD also bind the refresh token to the respective
 * certificate." A request that proved both binds to both.
 */
export const bindingFrom = (proofs: PresentedProofs): Pick<ActiveFamily, "jkt" | "x5t"> => ({
  ...(proofs.proofJkt !== undefined ? { jkt: proofs.proofJkt } : {}),
  ...(proofs.certX5t !== undefined ? { x5t: proofs.certX5t } : {}),
});

export const isBound = (family: ActiveFamily): boolean =>
  family.jkt !== undefined || family.x5t !== undefined;

/**
 * RFC 9449 §5: the client of a bound family "MUST present a DPoP proof for
 * the same key that was used to obtain the refresh token each time that
 * refresh token is used"; RFC 8705 §4: the server should "check the binding
 * when the refresh token is presented to get new access tokens". The
 * refusal a request without it gets, if any.
 */
export function bindingRefusal(family: ActiveFamily, proofs: PresentedProofs): Refusal | undefined {
  if (family.jkt !== undefined && family.jkt !== proofs.proofJkt) return "dpop_key_mismatch";
  if (family.x5t !== undefined && family.x5t !== proofs.certX5t) return "certificate_mismatch";
  return undefined;
}
