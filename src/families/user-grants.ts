import { currentRequestId } from "../log";
import { noteFamilyRevoked } from "../revocation/lists";

/**
 * Revocations of a user's grants that go through the user's index (the
 * User object decides which families are the user's): an administrator's
 * of one grant, the user's own "Remove access" of an app. Each revoked
 * family is noted in this isolate at once (KV carries it elsewhere).
 */

/** An administrator's revocation of one of a user's grants, through the user's index. */
export async function revokeUserGrant(env: Env, sub: string, familyId: string): Promise<boolean> {
  const revoked = await env.USER.getByName(sub).revokeGrant(familyId, currentRequestId());
  if (revoked) noteFamilyRevoked(env, familyId);
  return revoked;
}

/**
 * The user's own "Remove access" on the account page: every grant of the
 * client in the user's index, while the user's login session stands (the
 * User object decides both); the ids of the grants that were live, or
 * undefined when the session no longer stands.
 */
export async function removeUserApp(
  env: Env,
  session: { sub: string; sid: string; version: number },
  clientId: string,
): Promise<string[] | undefined> {
  const revoked = await env.USER.getByName(session.sub).removeApp(
    { sid: session.sid, version: session.version },
    clientId,
    currentRequestId(),
  );
  for (const familyId of revoked ?? []) noteFamilyRevoked(env, familyId);
  return revoked;
}
