/**
 * Revocation and cleanup, for every kind of family (an authorization code's,
 * a device authorization's), as pure functions of (state, input, now) like
 * ./state.ts.
 */

import type { FamilyState, RevocationReason, RevokedFamily, TokenRecord } from "./model";
import { revoke, type Step, TOMBSTONE_LIFETIME_MS } from "./state";

/**
 * How long an expired device authorization is kept: a device still polling
 * just after expires_in hears expired_token (RFC 8628 §3.5), and stops,
 * rather than invalid_grant.
 */
export const DEVICE_KEPT_AFTER_EXPIRY_MS = 10 * 60_000;

export interface RevokeWithTokenInput {
  clientId: string;
  presented: TokenRecord;
}

/**
 * RFC 7009 with a refresh token: any genuine token of the family, presented
 * by the client it was issued to, revokes the family. Another client's
 * attempt changes nothing (and is answered like an unknown token).
 */
export function revokeWithToken(
  state: FamilyState | undefined,
  input: RevokeWithTokenInput,
  now: number,
): Step<{ revoked: boolean }> {
  if (state?.status !== "active" || !state.refresh) return { state, result: { revoked: false } };
  if (state.grant.clientId !== input.clientId) return { state, result: { revoked: false } };
  const { current } = state.refresh;
  const genuine =
    input.presented.generation < current.generation ||
    (input.presented.generation === current.generation && input.presented.hash === current.hash);
  if (!genuine) return { state, result: { revoked: false } };
  const revoked = revoke(state, "revoked_by_client", now);
  return { state: revoked, result: { revoked: true }, revoked };
}

export interface RevokeFamilyInput {
  familyId: string;
  reason: RevocationReason;
}

/**
 * Revokes the whole family (a user's grants revoked, an administrator's
 * revocation). A family not created yet is revoked too: the revocation of a
 * user's grants reaches every family in the user's index, and one entered
 * there may not have been created yet; a tombstone makes sure it never is,
 * so no code created after the revocation can outlive it. `revoked` says
 * whether a live grant was revoked.
 */
export function revokeFamily(
  state: FamilyState | undefined,
  input: RevokeFamilyInput,
  now: number,
): Step<{ revoked: boolean }> {
  const { familyId, reason } = input;
  if (!state) {
    const tombstone: FamilyState = { status: "tombstone", familyId, revokedAt: now, reason };
    return { state: tombstone, result: { revoked: false } };
  }
  if (state.status === "revoked" || state.status === "tombstone")
    return { state, result: { revoked: false } };
  if (state.status === "device") {
    // RFC 8628: a device authorization the user approved is entered in the
    // user's index before the family records the approval (grants/device-code.ts);
    // a revocation in between leaves a tombstone, which refuses the approval
    // and every poll, as it refuses a code's creation.
    if (state.decision.kind !== "approved") {
      const tombstone: FamilyState = { status: "tombstone", familyId, revokedAt: now, reason };
      return { state: tombstone, result: { revoked: false } };
    }
    const revoked: RevokedFamily = {
      status: "revoked",
      familyId,
      grant: state.decision.grant,
      codeHash: state.device.hash,
      createdAt: state.createdAt,
      revokedAt: now,
      reason,
      accessTokensUntil: 0,
    };
    return { state: revoked, result: { revoked: true }, revoked };
  }
  const revoked = revoke(state, reason, now);
  return { state: revoked, result: { revoked: true }, revoked };
}

/** When the family's storage may be deleted; the alarm is set for this time. */
export function cleanupAt(state: FamilyState): number {
  switch (state.status) {
    case "pending":
      return state.code.expiresAt;
    case "device":
      return state.device.expiresAt + DEVICE_KEPT_AFTER_EXPIRY_MS;
    case "active":
      return Math.max(state.expiresAt, state.accessTokensUntil);
    case "revoked":
      return state.accessTokensUntil;
    case "tombstone":
      return state.revokedAt + TOMBSTONE_LIFETIME_MS;
  }
}
