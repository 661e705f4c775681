import type { RefreshPolicy } from "../clients/policy";
import { familyNonce, familyOfNonce, startsWithCurrentNonce } from "../dpop/nonce";
import { otherGrantNonce, REPLAYED_PROOF, type TokenEndpointProof } from "../dpop/replay";
import { invalidGrant, invalidScope, OAuthError } from "../errors";
import { nowSeconds } from "../lib/time";
import { currentRequestId, logError } from "../log";
import type { Params } from "../params";
import {
  claimedKind,
  encodeFamilyToken,
  openSuccessor,
  prepareSuccessor,
} from "../tokens/family-token";
import { familyPolicy, open, presentedRecord, refused, targetRefusals } from "./gateway";
import type { Grant, Refusal } from "./model";

/**
 * The refresh of a family, through the gateway (./gateway.ts): RFC 6749 §6
 * with rotation, reuse detection, the grace window, the family's binding,
 * and the family's own record of DPoP proofs (./proof-records.ts).
 */

export interface RefreshRequest {
  refreshToken: string;
  clientId: string;
  /** RFC 6749 §6: a scope asked for, checked against the grant by the family. */
  scope?: readonly string[];
  /** What the client is registered for now; the grant's scope is cut to it. */
  clientScopes: readonly string[];
  /** The thumbprint of the request's DPoP proof key, if it had a valid proof. */
  proofJkt?: string;
  /** That proof, and where its `jti` is recorded: by this family, or per key already (src/dpop/replay.ts). */
  proof?: TokenEndpointProof;
  /** RFC 9449 §5: the refresh tokens are bound to that key (a public client's). */
  bindRefreshToProof: boolean;
  /** The `x5t#S256` of the request's TLS client certificate, if it had one. */
  certX5t?: string;
  /** RFC 8707 §2.2: the resource the refresh names; the family checks the grant covers it. */
  resource?: string;
  policy: Extract<RefreshPolicy, { issue: true }>;
  accessTokenExpiresAt: number;
}

export interface Refreshed {
  familyId: string;
  grant: Grant;
  outcome: "rotated" | "grace" | "unchanged";
  /** The token the response carries: the successor, or (no rotation) the same one, or none. */
  refreshToken?: string;
  /** The resource the access token is for; absent: the default audience. */
  resource?: string;
  /** RFC 9449 §8.2: the nonce the answer hands on, when the request had a proof (this family's). */
  dpopNonce?: string;
}

const refreshInvalid = () => invalidGrant("The refresh token is invalid.");
const refreshRefusals: Partial<Record<Refusal, () => OAuthError>> = {
  expired: () => invalidGrant("The refresh token has expired."),
  revoked: () => invalidGrant("The refresh token has been revoked."),
  reuse_detected: () =>
    invalidGrant("The refresh token was already used; the grant has been revoked."),
  wrong_client: () => invalidGrant("The refresh token was issued to another client."),
  scope_withdrawn: () =>
    invalidScope("The client may no longer be granted any scope of this grant."),
  scope_exceeded: () =>
    invalidScope(
      "The requested scope is not within the scope originally granted (RFC 6749 section 6).",
    ),
  dpop_key_mismatch: () =>
    invalidGrant(
      "The refresh token is bound to a DPoP key: each refresh needs a proof by that key.",
    ),
  certificate_mismatch: () =>
    invalidGrant(
      "The refresh token is bound to a TLS client certificate: each refresh needs that certificate (mutual TLS).",
    ),
  proof_replayed: () => new OAuthError("invalid_dpop_proof", REPLAYED_PROOF),
  ...targetRefusals,
};

const STALE_FAMILY_NONCE =
  "This DPoP nonce is no longer current for this grant: retry with the nonce of the DPoP-Nonce header.";

/** The family named the grant's only resource, for the Worker to check and name (nothing changed). */
export type ResourceToCheck = { resourceToCheck: string };

/**
 * RFC 6749 §6 with rotation, reuse detection and a grace window (OAuth 2.1
 * §4.3, RFC 9700 §4.14.2): one call, in which the family decides everything.
 */
export async function refreshFamily(
  env: Env,
  request: RefreshRequest,
): Promise<Refreshed | ResourceToCheck> {
  const opened = await open(env, request.refreshToken, "refresh_token");
  if (!opened) {
    throw claimedKind(request.refreshToken) === "authorization_code"
      ? invalidGrant("An authorization code is not a refresh token.")
      : refreshInvalid();
  }
  const { token, family, tagKey } = opened;
  const { policy, proof } = request;
  // RFC 9449 §11.1: a proof carrying this family's nonce is recorded by the
  // family in the call below (any other was recorded per key already). The
  // family was the token's claim; opening the token has verified it.
  const recording = proof?.recording;
  if (recording?.by === "family" && recording.familyId !== token.familyId) {
    throw await otherGrantNonce(env);
  }
  // Prepared before the call, so that the family's critical section does no
  // crypto; used only if this call rotates.
  const successor =
    policy.rotation === "rotate" ? await prepareSuccessor(token, tagKey) : undefined;
  const result = await family.refresh(
    {
      clientId: request.clientId,
      presented: await presentedRecord(token),
      rotation: successor ? { kind: "rotate", successor: successor.record } : { kind: "reuse" },
      ...(request.scope ? { scope: request.scope } : {}),
      clientScopes: request.clientScopes,
      ...(request.proofJkt !== undefined ? { proofJkt: request.proofJkt } : {}),
      bindRefreshToProof: request.bindRefreshToProof,
      ...(request.certX5t !== undefined ? { certX5t: request.certX5t } : {}),
      ...(request.resource !== undefined ? { resource: request.resource } : {}),
      ...(proof && recording?.by === "family"
        ? { proof: { jti: proof.jti, until: proof.until, epoch: recording.epoch } }
        : {}),
      policy: familyPolicy(policy),
      accessTokenExpiresAt: request.accessTokenExpiresAt,
    },
    currentRequestId(),
  );
  if (!result.ok) {
    if (result.reason === "target_unchecked" && result.resource !== undefined)
      return { resourceToCheck: result.resource };
    if (result.reason === "proof_stale") {
      // RFC 9449 §8: "use_dpop_nonce", with the nonce that works now (nothing changed).
      throw new OAuthError("use_dpop_nonce", STALE_FAMILY_NONCE, {
        headers: {
          "DPoP-Nonce": await familyNonce(
            env,
            token.familyId,
            result.proofEpoch ?? 0,
            nowSeconds(),
          ),
        },
      });
    }
    throw refused(env, token.familyId, result.reason, refreshRefusals, refreshInvalid);
  }

  let refreshToken: string | undefined;
  switch (result.outcome) {
    case "rotated":
      refreshToken = successor?.text;
      break;
    case "grace": {
      // The same successor as the first answer: only this token's holder can open it.
      const secret = await openSuccessor(result.sealedSuccessor, token.secret);
      if (!secret) throw refreshInvalid();
      refreshToken = await encodeFamilyToken(
        { ...token, generation: token.generation + 1, secret },
        tagKey,
      );
      break;
    }
    case "unchanged":
      refreshToken = policy.returnOnRefresh ? request.refreshToken : undefined;
      break;
  }
  return {
    familyId: token.familyId,
    grant: result.grant,
    outcome: result.outcome,
    ...(refreshToken ? { refreshToken } : {}),
    ...(result.resource !== undefined ? { resource: result.resource } : {}),
    ...(proof
      ? { dpopNonce: await nonceToHandOn(env, token.familyId, result.proofEpoch, proof) }
      : {}),
  };
}

/**
 * RFC 9449 §11.1: a refresh refused after its proof was checked (by any
 * step, or by the family) spends a proof its family records all the same, so
 * that its request cannot be replayed with a corrected body (./state.ts,
 * `spendProof`). Only with a genuine token of that family: a forged one
 * reaches no family. Never throws: the refusal is what the client is told.
 */
export async function spendRefusedProof(
  env: Env,
  proof: TokenEndpointProof,
  params: Params,
): Promise<void> {
  const { recording } = proof;
  const text = params.get("refresh_token");
  if (recording.by !== "family" || text === undefined) return;
  try {
    const opened = await open(env, text, "refresh_token");
    if (opened?.token.familyId !== recording.familyId) return;
    await opened.family.spendProof(
      { jti: proof.jti, until: proof.until, epoch: recording.epoch },
      proof.jkt,
    );
  } catch (error) {
    logError("refused_proof_not_spent", error, { familyId: recording.familyId });
  }
}

/**
 * This family's nonce for `epoch`: the proof's own when it is still that
 * (the same period and epoch: nothing to compute), else a new one.
 */
async function nonceToHandOn(
  env: Env,
  familyId: string,
  epoch: number,
  proof: TokenEndpointProof,
): Promise<string> {
  const now = nowSeconds();
  const { nonce } = proof;
  const named = nonce !== undefined ? familyOfNonce(nonce) : undefined;
  if (
    nonce !== undefined &&
    named?.familyId === familyId &&
    named.epoch === epoch &&
    (await startsWithCurrentNonce(env, nonce, now))
  ) {
    return nonce;
  }
  return familyNonce(env, familyId, epoch, now);
}
