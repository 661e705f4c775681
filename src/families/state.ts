/**
 * The life of one grant, as pure functions of (state, input, now).
 *
 * The TokenFamily Durable Object applies them one at a time inside a storage
 * transaction; keeping them pure keeps every rule in one readable place and
 * lets the tests drive them with arbitrary interleavings.
 *
 *   (none) ──createPending──▶ pending ──redeem──▶ active ──refresh*──▶ active
 *                               │                  │ │
 *                               └──code expires──▶ (deleted)     └──idle/absolute expiry──▶ (deleted)
 *   pending | active ──revoke / reuse detected / code replayed──▶ revoked ──last access token expires──▶ (deleted)
 *   (none) ──revoke──▶ tombstone (refuses createPending and all else) ──TOMBSTONE_LIFETIME_MS──▶ (deleted)
 *
 * The device authorization grant (RFC 8628) has its own transitions in
 * ./device.ts (a "device" family becomes active as a pending one does), and
 * revocation and cleanup, common to all, are in ./revocation.ts.
 *
 * Every time here (`now`, `...At`) is in milliseconds since the epoch;
 * lifetimes in the policy are in seconds.
 *
 * Tokens are never stored: only the SHA-256 of their secret, and, for the
 * grace window, the successor sealed under a key derived from its
 * predecessor's secret (see src/tokens/family-token.ts).
 */

import { audienceOf, audienceRefusalOf, resourceField } from "./audience";
import { bindingFrom, bindingRefusal, isBound, type PresentedProofs } from "./binding";
import type {
  ActiveFamily,
  FamilyPolicy,
  FamilyState,
  Grant,
  GrantedFamily,
  PendingCode,
  Refusal,
  RevocationReason,
  RevokedFamily,
  SuccessorRecord,
  TokenRecord,
} from "./model";
import { admitProof, epochOf, type ProofClaim } from "./proof-records";

/** Refusals that mean the family is revoked (now, or before this request). */
export const meansRevoked = (reason: Refusal): boolean =>
  reason === "reuse_detected" || reason === "revoked";

/** A transition: the state to store (undefined: delete the family), and what to answer. */
export interface Step<R> {
  state: FamilyState | undefined;
  result: R;
  /** Set when this step revoked the family, so the caller can publish it and log it. */
  revoked?: RevokedFamily;
}

export const refuse = <R>(
  state: FamilyState | undefined,
  reason: Refusal,
): Step<R | { ok: false; reason: Refusal }> => ({
  state,
  result: { ok: false, reason },
});

/**
 * When the refresh tokens of a family stop working: its absolute lifetime,
 * its idle lifetime, and, for a grant that belongs to a login session, the
 * session's own end (OIDC Core §11: such a grant is for while the user is
 * signed in; an expired session ends it like a logout would).
 */
export function expiryOf(
  createdAt: number,
  lastUsedAt: number,
  policy: FamilyPolicy,
  grant?: Pick<Grant, "sessionEndsAt">,
): number {
  const absolute = Math.min(
    createdAt + policy.absoluteLifetime * 1000,
    grant?.sessionEndsAt ?? Number.POSITIVE_INFINITY,
  );
  return policy.idleLifetime > 0
    ? Math.min(absolute, lastUsedAt + policy.idleLifetime * 1000)
    : absolute;
}

/**
 * How long a tombstone refuses a creation. The browser flow's two calls (the
 * family created, then entered in the user's index) are milliseconds apart;
 * an hour is far beyond any request, and short enough that tombstones of
 * families long gone (a revocation pass over a stale index) do not pile up.
 */
export const TOMBSTONE_LIFETIME_MS = 60 * 60_000;

export function revoke(state: GrantedFamily, reason: RevocationReason, now: number): RevokedFamily {
  if (state.status === "revoked") return state;
  return {
    status: "revoked",
    familyId: state.familyId,
    grant: state.grant,
    codeHash: state.status === "pending" ? state.code.hash : state.codeHash,
    createdAt: state.createdAt,
    revokedAt: now,
    reason,
    accessTokensUntil: state.status === "active" ? state.accessTokensUntil : 0,
  };
}

// ── authorization code ────────────────────────────────────────────────────

export interface CreatePendingInput {
  familyId: string;
  grant: Grant;
  code: PendingCode;
}

export function createPending(
  state: FamilyState | undefined,
  input: CreatePendingInput,
  now: number,
): Step<{ ok: boolean }> {
  // A family id is fresh (newUniqueId); finding state here means a bug, not a race to win.
  if (state) return { state, result: { ok: false } };
  return { state: { status: "pending", ...input, createdAt: now }, result: { ok: true } };
}

export interface RedeemInput extends PresentedProofs {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  /** BASE64URL(SHA256(code_verifier)) computed by the Worker, when a verifier was sent. */
  verifierChallenge?: string;
  /** The first refresh token, when the client's policy allows one now. */
  refresh?: TokenRecord;
  /**
   * RFC 9449 §5, RFC 8705 §4: a public client's refresh tokens are bound to
   * what the request proved possession of (the proof's key, the certificate).
   */
  bindRefreshToProof: boolean;
  resource?: string; // RFC 8707 §2.2: the resource named, if any (./audience.ts)
  policy: FamilyPolicy;
  accessTokenExpiresAt: number;
}

export type RedeemResult =
  | { ok: true; grant: Grant; nonce?: string; refreshIssued: boolean; resource?: string }
  | { ok: false; reason: Refusal };

export function redeem(
  state: FamilyState | undefined,
  input: RedeemInput,
  now: number,
): Step<RedeemResult> {
  if (!state) return refuse(state, "unknown");
  if (state.status === "tombstone") return refuse(state, "revoked");
  if (state.status === "device") return refuse(state, "code_mismatch"); // a device code's family
  if (state.status !== "pending") {
    // RFC 6749 §4.1.2: a code used twice is refused, and what it issued is revoked.
    if (state.codeHash === input.codeHash && state.grant.clientId === input.clientId) {
      if (state.status === "revoked") return refuse(state, "revoked");
      const revoked = revoke(state, "authorization_code_reuse", now);
      return { state: revoked, result: { ok: false, reason: "reuse_detected" }, revoked };
    }
    return refuse(state, "code_mismatch");
  }
  const { code, grant } = state;
  if (code.hash !== input.codeHash) return refuse(state, "code_mismatch");
  if (grant.clientId !== input.clientId) return refuse(state, "wrong_client");
  if (now >= code.expiresAt) return refuse(state, "expired");
  if (code.redirectUri !== input.redirectUri) return refuse(state, "code_mismatch");
  // RFC 7636 §4.6, and RFC 9700 §2.1.1: a verifier without a challenge is refused too.
  if (code.codeChallenge !== input.verifierChallenge) return refuse(state, "pkce_failed");
  // RFC 9449 §10: the server "verifies that it matches the dpop_jkt parameter
  // value in the authorization request. If they do not match, it MUST reject
  // the request." The code stays unused, for its rightful holder.
  if (code.dpopJkt !== undefined && code.dpopJkt !== input.proofJkt)
    return refuse(state, "dpop_key_mismatch");
  // RFC 8707 §2.2: a resource the grant does not cover is refused, and the code stays unused.
  const audience = audienceOf(grant, input.resource, input);
  if (!audience.ok) return refuse(state, audience.reason);

  const refresh = code.refreshAllowed && input.refresh ? { current: input.refresh } : undefined;
  const next: ActiveFamily = {
    status: "active",
    familyId: state.familyId,
    grant,
    codeHash: code.hash,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: refresh ? expiryOf(now, now, input.policy, grant) : input.accessTokenExpiresAt,
    accessTokensUntil: input.accessTokenExpiresAt,
    ...(refresh ? { refresh } : {}),
    ...(refresh && input.bindRefreshToProof ? bindingFrom(input) : {}),
  };
  return {
    state: next,
    result: {
      ok: true,
      grant,
      refreshIssued: refresh !== undefined,
      ...(code.nonce ? { nonce: code.nonce } : {}),
      ...(audience.ok && audience.resource !== undefined ? { resource: audience.resource } : {}),
    },
  };
}

// ── refresh ───────────────────────────────────────────────────────────────

export interface RefreshInput extends PresentedProofs {
  clientId: string;
  presented: TokenRecord;
  /**
   * The scope asked for, when the request names one. RFC 6749 §6: it must be
   * within the original grant; it is checked here, before anything rotates.
   */
  scope?: readonly string[];
  /** The scopes the client is registered for now (the admin API may have taken some away). */
  clientScopes: readonly string[];
  /**
   * The client's rotation rule. "rotate" comes with the successor the Worker
   * prepared (so the family does no crypto), used only if this call rotates.
   */
  rotation: { kind: "reuse" } | { kind: "rotate"; successor: SuccessorRecord };
  /**
   * RFC 9449 §5, RFC 8705 §4: a public client's refresh tokens are bound to
   * what its request proved; an unbound family refreshed with a proof or a
   * certificate becomes bound to it. Absent: false.
   */
  bindRefreshToProof?: boolean;
  resource?: string; // RFC 8707 §2.2: the resource named, if any; one of the grant's
  /** The request's DPoP proof, when its nonce makes this family its replay record (./proof-records.ts). */
  proof?: ProofClaim;
  policy: FamilyPolicy;
  accessTokenExpiresAt: number;
}

/** What every successful refresh answers: the epoch the family's next nonce is to name. */
type Refreshed = { ok: true; grant: Grant; resource?: string; proofEpoch: number };

export type RefreshResult =
  | (Refreshed & { outcome: "rotated"; generation: number })
  | (Refreshed & { outcome: "unchanged" })
  | (Refreshed & {
      outcome: "grace";
      sealedSuccessor: string;
      /** How long after the rotation the previous token came back (a security event). */
      sinceRotationMs: number;
    })
  /**
   * `resource`: with target_unchecked, the resource the Worker is to check
   * and name. `proofEpoch`: with proof_stale, the epoch to retry with.
   */
  | { ok: false; reason: Refusal; resource?: string; proofEpoch?: number };

export function refresh(
  state: FamilyState | undefined,
  input: RefreshInput,
  now: number,
): Step<RefreshResult> {
  if (!state || state.status === "pending" || state.status === "device")
    return refuse(state, "unknown");
  if (state.status === "revoked" || state.status === "tombstone") return refuse(state, "revoked");
  if (state.grant.clientId !== input.clientId) return refuse(state, "wrong_client");
  const chain = state.refresh;
  if (!chain) return refuse(state, "no_refresh_token");
  if (now >= expiryOf(state.createdAt, state.lastUsedAt, input.policy, state.grant))
    return refuse(state, "expired");
  // RFC 9449 §11.1: a proof this family records is refused, before anything
  // else and changing nothing, if it was accepted before (a captured request
  // replayed would otherwise get the successor in the grace window, or let
  // whoever replays it revoke the family as reuse) or if its epoch is gone.
  const admitted = input.proof ? admitProof(state.proofs, input.proof, now) : undefined;
  if (admitted && !admitted.ok) {
    return {
      state,
      result: { ok: false, reason: admitted.reason, proofEpoch: epochOf(state.proofs) },
    };
  }
  const proofs = admitted ? admitted.records : state.proofs;

  const { presented } = input;
  const { current, previous } = chain;
  // Scope problems are answered only where a refresh would otherwise succeed
  // (the current token, or the previous one within its grace window), so a
  // copy of an older token learns nothing from them: it is reuse, below.
  const exceeded = input.scope?.some((s) => !state.grant.scope.includes(s)) === true;
  // A refresh checks that the grant is still allowed: a token may carry only
  // scopes the client is registered for today. If none of the grant's is left,
  // a refresh that would succeed is refused instead, before anything rotates
  // (a replayed token is still reuse, below).
  const withdrawn = !(input.scope ?? state.grant.scope).some((s) => input.clientScopes.includes(s));
  const unproven = bindingRefusal(state, input); // a bound family's, without its proof
  // RFC 8707 §2.2: any one resource the grant covers; else refused where a scope problem is.
  const audience = audienceOf(state.grant, input.resource, input, false);
  const target = { ...resourceField(state.grant, audience), proofEpoch: epochOf(proofs) };
  // The grace window hands the successor to whoever shows the previous token;
  // where it needs a binding, only the key's holder can be that.
  const graceSeconds =
    input.policy.graceNeedsBinding && !isBound(state) ? 0 : input.policy.graceSeconds;
  // RFC 9449 §5: "When an authorization server supporting DPoP issues a refresh token to a
  // public client that presents a valid DPoP proof ..., the refresh token MUST be bound".
  const bindTo = input.bindRefreshToProof && !isBound(state) ? bindingFrom(input) : undefined;
  const used = (s: ActiveFamily): ActiveFamily => ({
    ...s,
    ...bindTo,
    ...(proofs ? { proofs } : {}),
    lastUsedAt: now,
    expiresAt: expiryOf(s.createdAt, now, input.policy, s.grant),
    accessTokensUntil: Math.max(s.accessTokensUntil, input.accessTokenExpiresAt),
  });

  if (presented.generation === current.generation) {
    if (presented.hash !== current.hash) return refuse(state, "unknown");
    if (unproven) return refuse(state, unproven);
    if (exceeded) return refuse(state, "scope_exceeded");
    if (withdrawn) return refuse(state, "scope_withdrawn");
    if (!audience.ok) return { state, result: audienceRefusalOf(audience) };
    if (input.rotation.kind === "reuse")
      return { state: used(state), result: { ok: true, outcome: "unchanged", ...target } };
    const { successor } = input.rotation;
    // The Worker numbers the successor; a wrong number is a bug, refused before anything changes.
    if (successor.generation !== current.generation + 1) return refuse(state, "unknown");
    const generation = successor.generation;
    const next: ActiveFamily = {
      ...used(state),
      refresh: {
        current: { generation, hash: successor.hash },
        previous: { ...current, sealedSuccessor: successor.sealed, rotatedAt: now },
      },
    };
    return {
      state: next,
      result: { ok: true, outcome: "rotated", generation, ...target },
    };
  }

  // The immediately previous token, again, while its successor is unused (else
  // the chain would have moved on) and within the grace window: the same
  // successor, so a lost response can be retried and a race cannot fork. A
  // bound family's retry must be proven by its key; by another key it is
  // someone else holding the previous token: reuse, below.
  if (
    previous &&
    presented.generation === previous.generation &&
    presented.hash === previous.hash &&
    !unproven &&
    now - previous.rotatedAt < graceSeconds * 1000
  ) {
    if (exceeded) return refuse(state, "scope_exceeded");
    if (withdrawn) return refuse(state, "scope_withdrawn");
    if (!audience.ok) return { state, result: audienceRefusalOf(audience) };
    return {
      state: used(state),
      result: {
        ok: true,
        outcome: "grace",
        ...target,
        sealedSuccessor: previous.sealedSuccessor,
        sinceRotationMs: now - previous.rotatedAt,
      },
    };
  }

  if (presented.generation < current.generation) {
    // A genuine (tag-verified) token this family rotated out: someone holds a
    // copy. OAuth 2.1 §4.3.1, RFC 9700 §4.14.2: revoke the whole family.
    const revoked = revoke(state, "refresh_token_reuse", now);
    return { state: revoked, result: { ok: false, reason: "reuse_detected" }, revoked };
  }
  return refuse(state, "unknown");
}

/**
 * RFC 9449 §11.1 ("decline HTTP requests ... for which the jti value has been
 * seen before"): a refresh refused after its proof was checked spends the
 * proof all the same, as the per-key record does. Its request may be seen
 * and replayed with a corrected body, which a DPoP proof does not cover.
 * Only the records change; false when the proof is not taken (replayed, stale).
 */
export function spendProof(
  state: FamilyState | undefined,
  proof: ProofClaim,
  /** The proof's key: a family bound to another key never takes its proofs, so keeps no record of them. */
  jkt: string,
  now: number,
): Step<{ ok: boolean }> {
  if (state?.status !== "active" || (state.jkt !== undefined && state.jkt !== jkt)) {
    return { state, result: { ok: false } };
  }
  const admitted = admitProof(state.proofs, proof, now);
  if (!admitted.ok) return { state, result: { ok: false } };
  return { state: { ...state, proofs: admitted.records }, result: { ok: true } };
}
