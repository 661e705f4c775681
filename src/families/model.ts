import type { ProofRecords } from "./proof-records";

/**
 * What a token family is made of: its states, its policy, and what its
 * transitions answer. The transitions themselves are in ./state.ts.
 *
 * Every time here (`now`, `...At`) is in milliseconds since the epoch;
 * lifetimes in the policy are in seconds.
 */

/** The lifetimes and grace window in force, resolved by the Worker on each call. */
export interface FamilyPolicy {
  /** 0 to 60 seconds. */
  graceSeconds: number;
  /**
   * The window applies only to bound families, to a DPoP key or a TLS client
   * certificate (a public client's: RFC 9700 §4.14.2, only the key's holder
   * can then use it).
   */
  graceNeedsBinding: boolean;
  /** Seconds from the grant's creation; > 0. */
  absoluteLifetime: number;
  /** Seconds since the last refresh; 0 means no idle limit. */
  idleLifetime: number;
}

/** What the family remembers of the authorization (who, for whom, what). */
export interface Grant {
  clientId: string;
  sub: string;
  scope: readonly string[];
  authTime: number;
  /** The login session the grant was made in (OIDC: its ID tokens carry it as `sid`). */
  sid?: string;
  /**
   * For a grant that belongs to its login session (README, "Sessions and
   * logout"): when the session ends by itself, milliseconds. Its refresh
   * tokens stop working then; a logout or password change revokes it sooner.
   */
  sessionEndsAt?: number;
  /**
   * RFC 8707 §2.1: the resources the authorization request named, which "the
   * requested resource is applicable to the full authorization grant": each
   * access token is for one of them. Absent in grants made before resources
   * existed, and when the request named none: the default audience only.
   */
  resources?: readonly string[];
  /**
   * Those of `resources` that required sender-constrained tokens when the
   * grant was made: a token for one of them needs a DPoP proof or a TLS
   * client certificate (the Worker checks the current registration too).
   */
  senderConstrained?: readonly string[];
}

export interface PendingCode {
  hash: string;
  expiresAt: number;
  redirectUri: string;
  /** S256 challenge, when the authorization request carried one. */
  codeChallenge?: string;
  nonce?: string;
  /** Whether this grant may have refresh tokens (client policy and offline_access consent). */
  refreshAllowed: boolean;
  /** RFC 9449 §10: the authorization request's dpop_jkt; the code is redeemed only with a proof by that key. */
  dpopJkt?: string;
}

/**
 * RFC 8628 §3.1, §3.2: a device authorization, from the device's request
 * until the device redeems it. The family of a device authorization is named
 * by its user code (families/device.ts), so the verification page finds it
 * with no lookup table.
 */
export interface DeviceAuthorization {
  /** SHA-256 of the device code's secret (never the code). */
  hash: string;
  clientId: string;
  scope: readonly string[];
  /** §3.2 expires_in: the device code and the user code die together. */
  expiresAt: number;
  /**
   * §3.2 interval, in seconds; §3.5: "the interval MUST be increased by 5
   * seconds for this and all subsequent requests" at each slow_down.
   */
  interval: number;
  /** When the device last polled, to tell a poll that came too early (§3.5 slow_down). */
  lastPolledAt?: number;
}

/** What the user answered on the verification page (RFC 8628 §3.3), if anything yet. */
export type DeviceDecision =
  | { kind: "waiting" }
  /**
   * A signed-in user is approving it (the first step of an approval): from
   * here only this user can approve it, so only their grant index ever holds
   * it (grants/device-code.ts).
   */
  | { kind: "claimed"; sub: string }
  | {
      kind: "approved";
      grant: Grant;
      /** Whether this grant may have refresh tokens (client policy and offline_access consent). */
      refreshAllowed: boolean;
    }
  | { kind: "denied" };

export interface TokenRecord {
  generation: number;
  hash: string;
}

/** A successor as the Worker prepares it: its hash, and its secret sealed under its predecessor's. */
export interface SuccessorRecord extends TokenRecord {
  sealed: string;
}

export interface PreviousToken extends TokenRecord {
  sealedSuccessor: string;
  rotatedAt: number;
}

export interface RefreshChain {
  current: TokenRecord;
  previous?: PreviousToken;
}

export type RevocationReason =
  | "revoked_by_client"
  | "refresh_token_reuse"
  | "authorization_code_reuse"
  /** A device code presented again after it was redeemed (RFC 8628 §3.4, read as RFC 6749 §4.1.2 reads a code). */
  | "device_code_reuse"
  | "user_blocked"
  | "password_changed"
  | "user_deleted"
  /** A grant that belonged to a login session (OIDC Core §11), which ended: logout, password change. */
  | "session_ended"
  /** The user removed the app's access on their account page. */
  | "revoked_by_user"
  | "admin";

export type FamilyState =
  | { status: "pending"; familyId: string; grant: Grant; code: PendingCode; createdAt: number }
  | {
      /** RFC 8628: created by the device's request, answered by the user, redeemed by a poll. */
      status: "device";
      familyId: string;
      device: DeviceAuthorization;
      decision: DeviceDecision;
      createdAt: number;
    }
  | {
      status: "active";
      familyId: string;
      grant: Grant;
      codeHash: string;
      createdAt: number;
      lastUsedAt: number;
      expiresAt: number;
      refresh?: RefreshChain;
      /** The latest `exp` of any access token issued from this family. */
      accessTokensUntil: number;
      /**
       * RFC 9449 §5: the thumbprint of the DPoP key the refresh tokens are
       * bound to (a public client's family, redeemed with a proof). Every
       * refresh must then be proven by that key.
       */
      jkt?: string;
      /**
       * RFC 8705 §4: the `x5t#S256` of the TLS client certificate the refresh
       * tokens are bound to (a public client's family, redeemed over mutual
       * TLS). Every refresh must then present that certificate.
       */
      x5t?: string;
      /** RFC 9449 §11.1: the DPoP proofs this family records itself (./proof-records.ts). */
      proofs?: ProofRecords;
    }
  | {
      status: "revoked";
      familyId: string;
      grant: Grant;
      codeHash?: string;
      createdAt: number;
      revokedAt: number;
      reason: RevocationReason;
      accessTokensUntil: number;
    }
  | {
      /**
       * Revoked before it was created: its id was in a user's index (the
       * browser flow registers a family there around the time it creates it)
       * when every grant of the user was revoked. It refuses everything, its
       * creation first, until its alarm deletes it.
       */
      status: "tombstone";
      familyId: string;
      revokedAt: number;
      reason: RevocationReason;
    };

export type ActiveFamily = Extract<FamilyState, { status: "active" }>;
export type DeviceFamily = Extract<FamilyState, { status: "device" }>;
export type RevokedFamily = Extract<FamilyState, { status: "revoked" }>;
/** A family that exists: created by its code, whatever became of it since. */
export type CreatedFamily = Exclude<FamilyState, { status: "tombstone" }>;
/** A family that has a grant (a user and what they allowed): every created one but a device's before the user's answer. */
export type GrantedFamily = Exclude<CreatedFamily, { status: "device" }>;

export type Refusal =
  | "unknown"
  | "wrong_client"
  | "expired"
  | "revoked"
  | "reuse_detected"
  | "code_mismatch"
  | "pkce_failed"
  | "no_refresh_token"
  | "scope_exceeded"
  | "scope_withdrawn"
  /** RFC 9449 §5, §10: a proof by the bound key was needed, and is missing or by another key. */
  | "dpop_key_mismatch"
  /** RFC 8705 §4: the refresh token is bound to a TLS client certificate, and it is missing or another. */
  | "certificate_mismatch"
  /** RFC 9449 §11.1: this DPoP proof was accepted before (./proof-records.ts). */
  | "proof_replayed"
  /** RFC 9449 §8: the proof names an epoch this family no longer records, or is too old to record. */
  | "proof_stale"
  /** RFC 8707 §2.2: the resource asked for is not one the grant covers. */
  | "target_not_granted"
  /** The token would be for a resource that needs a DPoP proof or a certificate, and the request had neither. */
  | "target_needs_binding"
  /**
   * A refresh that names no resource, of a grant with exactly one: the Worker
   * is to check that resource's current registration and ask again naming it,
   * so a resource deleted or made to require binding since the grant is
   * refused before anything rotates.
   */
  | "target_unchecked"
  /** RFC 8628 §3.5: the user has not answered yet; the device polls again after its interval. */
  | "authorization_pending"
  /** RFC 8628 §3.5: as authorization_pending, and the device polled too soon: its interval grew by 5 s. */
  | "slow_down"
  /** RFC 8628 §3.5: the user denied the device authorization. */
  | "access_denied";
