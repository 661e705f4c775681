import type { RequestId } from "../log";
import { type GrantView, revokeFamilies } from "./family-fan-out";
import type { FamilyIndex } from "./family-index";
import type { SessionBook, SessionRecord } from "./login-sessions";

/**
 * What the user's own account page (src/browser/account.tsx) asks of the
 * User object. The object calls these only while the browser's session
 * stands, and they reach only this account's own index and sessions: an id
 * the form names that is not in them changes nothing.
 */

/** The account page's facts. */
export interface AccountOverview {
  username: string;
  /** The standing login sessions, newest first. */
  sessions: SessionRecord[];
  /** The live grants, newest first. */
  grants: GrantView[];
}

/** Which sessions to sign out: one (by its sid), every other than the caller's, or all. */
export type SessionChoice = { sid: string } | "others" | "all";

/** Revokes every grant of `clientId` in the index; the ids of those that were live. */
export function revokeOwnApp(
  env: Env,
  families: FamilyIndex,
  clientId: string,
  requestId: RequestId,
): Promise<string[]> {
  return revokeFamilies(env, families.ofClient(clientId), "revoked_by_user", requestId);
}

/** Ends the chosen sessions (`current`: the caller's); what ended. Their grants are the caller's to revoke. */
export function endOwnSessions(
  sessions: SessionBook,
  current: string,
  which: SessionChoice,
): SessionRecord[] {
  const now = Date.now();
  const targets =
    typeof which === "object"
      ? [sessions.alive(which.sid, now)].filter((s) => s !== undefined)
      : sessions.all(now).filter((s) => which === "all" || s.sid !== current);
  return targets.flatMap((s) => sessions.end(s.sid) ?? []);
}
