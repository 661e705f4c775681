import type { ClientRecord, GrantType } from "../clients/model";
import type { ProviderConfig } from "../config";
import type { TokenEndpointProof } from "../dpop/replay";
import type { PresentedProofs } from "../families/binding";
import type { ClientCertificate } from "../mtls/certificate";
import type { Params } from "../params";
import type { TokenResponse } from "./response";

/** The parameters a grant reads: the required ones are present when `handle` runs. */
export type GrantParams<R extends string, O extends string> = Readonly<
  Record<R, string> & Partial<Record<O, string>>
>;

/** What a grant handler is given: an authenticated client and the parameters it declared. */
export interface GrantRequest<R extends string = string, O extends string = string> {
  env: Env;
  config: ProviderConfig;
  client: ClientRecord;
  params: GrantParams<R, O>;
  /**
   * The request's DPoP proof, fully checked (RFC 9449 §4.3), when it had
   * one: the access token is bound to its key. Its replay is recorded per
   * key before the grant runs, or by the family it refreshes (`proofFamily`).
   */
  dpop?: TokenEndpointProof;
  /**
   * The request's TLS client certificate (RFC 8705), when it had one: the
   * access token is bound to it (§3).
   */
  certificate?: ClientCertificate;
}

/** What a token request proved possession of, by the names the token's `cnf` uses. */
export interface Proven {
  /** RFC 9449 §6.1: the DPoP key's thumbprint. */
  jkt?: string;
  /** RFC 8705 §3.1: the TLS client certificate's SHA-256 thumbprint. */
  x5t?: string;
}

/**
 * RFC 9449 §6 and RFC 8705 §3 ("When mutual TLS is used by the client on the
 * connection to the token endpoint, the authorization server is able to bind
 * the issued access token to the client certificate"): the access token is
 * bound to whatever the request proved, whichever way the client
 * authenticated; both, when it proved both.
 */
export const provenBy = ({ dpop, certificate }: GrantRequest): Proven => ({
  ...(dpop ? { jkt: dpop.jkt } : {}),
  ...(certificate ? { x5t: certificate.x5t } : {}),
});

/** The same, as a family's transition reads it (./families/binding.ts). */
export const presentedProofs = ({ jkt, x5t }: Proven): PresentedProofs => ({
  ...(jkt !== undefined ? { proofJkt: jkt } : {}),
  ...(x5t !== undefined ? { certX5t: x5t } : {}),
});

/**
 * One grant type at the token endpoint, as fosite's handlers are: the
 * `grant_type` it answers, the parameters it reads (RFC 6749 §4.x; the token
 * endpoint refuses a request that lacks a required one, after authenticating
 * the client), and the handler itself.
 */
export interface GrantHandler<R extends string = string, O extends string = string> {
  grantType: GrantType;
  parameters: { required: readonly R[]; optional: readonly O[] };
  /**
   * RFC 9449 §11.1: the family that records the request's DPoP proof itself,
   * in the transaction that uses it (a refresh: the family its refresh token
   * claims; src/dpop/replay.ts), if any. Otherwise the token endpoint records
   * the proof per key as soon as it has checked it.
   */
  proofFamily?(params: Params): string | undefined;
  handle(request: GrantRequest<R, O>): Promise<GrantAnswer>;
}

/** A grant's answer: the token response, and the DPoP-Nonce it hands on if not the server's (RFC 9449 §8.2). */
export interface GrantAnswer {
  body: TokenResponse;
  dpopNonce?: string;
}

/** Declares a grant with its parameters' names inferred, so `handle` sees them typed. */
export const defineGrant = <R extends string, O extends string>(
  grant: GrantHandler<R, O>,
): GrantHandler => grant as unknown as GrantHandler;
