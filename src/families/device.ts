/**
 * The device authorization grant (RFC 8628) in a family, as pure functions of
 * (state, input, now), applied by the TokenFamily object like ./state.ts.
 *
 *   (none) ──createDevice──▶ device (waiting) ──claim──▶ (claimed by a user) ──approve──▶ (approved) ──pollDevice──▶ active
 *                              │   (waiting | claimed) ──deny──▶ (denied)
 *                              └─ pollDevice: authorization_pending, slow_down (interval + 5 s)
 *   device ──expiresAt──▶ polls answer expired_token ──cleanupAt──▶ (deleted)
 *   active | revoked ──the device code again──▶ revoked (device_code_reuse)
 *
 * The family is named by its user code (families/device-gateway.ts), so the
 * verification page reaches it with no lookup table, and every rule of one
 * device authorization (the user's answer, each poll, the one redemption) is
 * decided in this one object, one event at a time.
 */

import { bindingFrom, type PresentedProofs } from "./binding";
import type {
  ActiveFamily,
  DeviceAuthorization,
  FamilyPolicy,
  FamilyState,
  Grant,
  Refusal,
  TokenRecord,
} from "./model";
import { expiryOf, refuse, revoke, type Step } from "./state";

/** RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
export const SLOW_DOWN_SECONDS = 5;

export interface CreateDeviceInput {
  familyId: string;
  device: Omit<DeviceAuthorization, "lastPolledAt">;
}

/**
 * RFC 8628 §3.2: "the authorization server generates a unique device
 * verification code and an end-user code that are valid for a limited
 * time". The family's name comes from the user code: finding state here
 * means that code names a family already (one still live, or its tombstone),
 * and the caller draws another code.
 */
export function createDevice(
  state: FamilyState | undefined,
  input: CreateDeviceInput,
  now: number,
): Step<{ ok: boolean }> {
  if (state) return { state, result: { ok: false } };
  return {
    state: {
      status: "device",
      familyId: input.familyId,
      device: input.device,
      decision: { kind: "waiting" },
      createdAt: now,
    },
    result: { ok: true },
  };
}

/** What the verification page shows of a device authorization (RFC 8628 §3.3). */
export interface DeviceRequestView {
  clientId: string;
  scope: readonly string[];
  expiresAt: number;
}

/**
 * The device authorization a user code names, while the user can still
 * answer it: not yet approved or denied, not expired. Anything else (no such
 * code, an expired one, one answered or redeemed) is the same "no", so the
 * page tells a guesser nothing about codes it does not hold.
 */
export function deviceRequestOf(
  state: FamilyState | undefined,
  now: number,
): DeviceRequestView | undefined {
  if (state?.status !== "device" || now >= state.device.expiresAt) return undefined;
  const { kind } = state.decision;
  if (kind !== "waiting" && kind !== "claimed") return undefined;
  const { clientId, scope, expiresAt } = state.device;
  return { clientId, scope, expiresAt };
}

/**
 * The user's answer, RFC 8628 §3.3: the server "should then inform the user
 * about the action they are undertaking and ask them to approve or deny the
 * request". An approval takes two steps around the entry in the user's grant
 * index (grants/device-code.ts): `claim` (one user only: two people who both
 * hold the code cannot both approve it, nor put it in their index), then
 * `approve` by that user. A denial grants nothing and needs no claim.
 */
export type AnswerDeviceInput = { clientId: string } & (
  | { answer: "claim"; sub: string }
  | { answer: "approve"; grant: Grant; refreshAllowed: boolean }
  | { answer: "deny" }
);

/**
 * One answer, while the authorization can be answered and for the client the
 * page showed. A tombstone (the user's grants revoked since the family
 * entered their index) refuses every answer.
 */
export function answerDevice(
  state: FamilyState | undefined,
  input: AnswerDeviceInput,
  now: number,
): Step<{ ok: boolean }> {
  const no = { state, result: { ok: false } };
  if (!deviceRequestOf(state, now) || state?.status !== "device") return no;
  if (state.device.clientId !== input.clientId) return no;
  const { decision } = state;
  const claimedBy = decision.kind === "claimed" ? decision.sub : undefined;
  switch (input.answer) {
    case "claim":
      if (claimedBy === input.sub) return { state, result: { ok: true } };
      if (claimedBy !== undefined) return no;
      return {
        state: { ...state, decision: { kind: "claimed", sub: input.sub } },
        result: { ok: true },
      };
    case "approve": {
      const { grant, refreshAllowed } = input;
      if (claimedBy === undefined || claimedBy !== grant.sub || grant.clientId !== input.clientId)
        return no;
      const approved = { kind: "approved" as const, grant, refreshAllowed };
      return { state: { ...state, decision: approved }, result: { ok: true } };
    }
    case "deny":
      return { state: { ...state, decision: { kind: "denied" } }, result: { ok: true } };
  }
}

export interface PollDeviceInput extends PresentedProofs {
  codeHash: string;
  clientId: string;
  /** The first refresh token, when the client's policy allows one now. */
  refresh?: TokenRecord;
  /** RFC 9449 §5, RFC 8705 §4: a public client's refresh tokens are bound to what it proved. */
  bindRefreshToProof: boolean;
  policy: FamilyPolicy;
  accessTokenExpiresAt: number;
}

export type PollDeviceResult =
  | { ok: true; grant: Grant; refreshIssued: boolean }
  | { ok: false; reason: Refusal };

/**
 * RFC 8628 §3.4, §3.5: one poll of the token endpoint with the device code.
 * Refusals that leave the device code usable (another client's, a pending
 * one) change nothing but the poll's time; the one success turns the family
 * active, exactly once.
 */
export function pollDevice(
  state: FamilyState | undefined,
  input: PollDeviceInput,
  now: number,
): Step<PollDeviceResult> {
  if (!state) return refuse(state, "unknown");
  if (state.status === "tombstone") return refuse(state, "revoked");
  if (state.status === "pending") return refuse(state, "code_mismatch"); // an authorization code's family
  if (state.status !== "device") {
    // Redeemed already. RFC 8628 §3.4 makes the device code the grant's one
    // credential, as RFC 6749 §4.1.2 makes the code: "If an authorization code
    // is used more than once, the authorization server MUST deny the request
    // and SHOULD revoke (when possible) all tokens previously issued based on
    // that authorization code." A copy redeemed first loses its tokens too.
    if (state.codeHash !== input.codeHash || state.grant.clientId !== input.clientId)
      return refuse(state, "code_mismatch");
    if (state.status === "revoked") return refuse(state, "revoked");
    const revoked = revoke(state, "device_code_reuse", now);
    return { state: revoked, result: { ok: false, reason: "reuse_detected" }, revoked };
  }
  const { device, decision } = state;
  if (device.hash !== input.codeHash) return refuse(state, "code_mismatch");
  // RFC 8628 §3.5 reads RFC 6749 §5.2: invalid_grant when the code "was issued to another client".
  if (device.clientId !== input.clientId) return refuse(state, "wrong_client");
  // §3.5 expired_token: "The "device_code" has expired, and the device authorization session has concluded."
  if (now >= device.expiresAt) return refuse(state, "expired");
  // §3.5 access_denied: "The authorization request was denied."
  if (decision.kind === "denied") return refuse(state, "access_denied");
  if (decision.kind === "waiting" || decision.kind === "claimed") {
    // §3.5 authorization_pending: "Before each new request, the client MUST
    // wait at least the number of seconds specified by the "interval"
    // parameter"; slow_down: "the interval MUST be increased by 5 seconds for
    // this and all subsequent requests". The raised interval is stored, so
    // every later poll is measured against it.
    const early =
      device.lastPolledAt !== undefined && now - device.lastPolledAt < device.interval * 1000;
    const interval = early ? device.interval + SLOW_DOWN_SECONDS : device.interval;
    return {
      state: { ...state, device: { ...device, interval, lastPolledAt: now } },
      result: { ok: false, reason: early ? "slow_down" : "authorization_pending" },
    };
  }
  // §3.5: "If the user has approved the grant, the token endpoint responds
  // with a success response defined in Section 5.1 of [RFC6749]", once.
  const { grant } = decision;
  const refresh = decision.refreshAllowed && input.refresh ? { current: input.refresh } : undefined;
  const next: ActiveFamily = {
    status: "active",
    familyId: state.familyId,
    grant,
    codeHash: device.hash,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: refresh ? expiryOf(now, now, input.policy) : input.accessTokenExpiresAt,
    accessTokensUntil: input.accessTokenExpiresAt,
    ...(refresh ? { refresh } : {}),
    ...(refresh && input.bindRefreshToProof ? bindingFrom(input) : {}),
  };
  return { state: next, result: { ok: true, grant, refreshIssued: refresh !== undefined } };
}
