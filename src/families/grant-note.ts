import type { FamilyState } from "./model";

/**
 * How a family tells the client directory (src/clients/directory.ts) that it
 * became, or stopped being, a live grant of its client, so the admin API can
 * say how many grants a client has (the console's delete confirmation names
 * them) without a token request waiting for it.
 *
 * A family is a live grant while it is active and holds refresh tokens: from
 * the redemption of its code to its revocation (by the client, an
 * administrator, a blocked or deleted user, reuse detection) or its expiry.
 * The transition that changes that stores a note in the same storage
 * transaction as the state itself (no extra round trip), and the family
 * sends it after answering (waitUntil). A note is deleted once the directory
 * has it; until then its alarm sends it again (see token-family.ts), and so
 * does its next wake, so a failed send or a crash in between delays the
 * count, never loses it. The directory counts each family once and ignores
 * a late "live" after an "ended", so retries and reordering are harmless.
 *
 * The count lags: by the moment a send takes, by a retry after a failure,
 * and for an expired grant by up to one access-token lifetime (a family is
 * cleaned up, and says it ended, when its last access token has expired).
 */

export interface GrantNote {
  familyId: string;
  clientId: string;
  live: boolean;
  /** Failed sends so far, for the back-off. */
  failures: number;
}

export const isLiveGrant = (state: FamilyState | undefined): boolean =>
  state?.status === "active" && state.refresh !== undefined;

/** The note a transition from `before` to `after` calls for, if it changed whether the family is live. */
export function grantNote(
  before: FamilyState | undefined,
  after: FamilyState | undefined,
): GrantNote | undefined {
  const live = isLiveGrant(after);
  if (live === isLiveGrant(before)) return undefined;
  const state = live ? after : before;
  if (state?.status !== "active") return undefined; // unreachable: a live family is active
  return { familyId: state.familyId, clientId: state.grant.clientId, live, failures: 0 };
}
