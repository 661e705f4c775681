import { currentRequestId } from "../log";
import { familyOf, fanOut } from "./family-fan-out";
import type { FamilyIndex } from "./family-index";

/**
 * The grants that belong to a login session die with it (OIDC Core §11; README,
 * "Sessions and logout"). The ids owed a revocation are stored first, so that
 * what a failed call leaves is finished by the User object's alarm.
 */

/** Families owed a "session_ended" revocation that has not reached them yet. */
const SESSION_REVOCATIONS = "session-revocations";
const RETRY_MS = 5_000;

export const sessionGrantsOwed = (storage: DurableObjectStorage): boolean =>
  storage.kv.get(SESSION_REVOCATIONS) !== undefined;

/** Revokes the grants of the sessions `sids`, and any such revocation still owed. */
export async function revokeSessionGrants(
  storage: DurableObjectStorage,
  env: Env,
  families: FamilyIndex,
  sids: readonly string[],
): Promise<void> {
  const kv = storage.kv;
  const owed = [
    ...new Set([
      ...(kv.get<string[]>(SESSION_REVOCATIONS) ?? []),
      ...sids.flatMap((sid) => families.ofSession(sid)),
    ]),
  ];
  if (owed.length === 0) return;
  kv.put(SESSION_REVOCATIONS, owed);
  const retryAt = Date.now() + RETRY_MS;
  const alarm = await storage.getAlarm();
  if (alarm === null || alarm > retryAt) await storage.setAlarm(retryAt);
  const requestId = currentRequestId();
  const done = await fanOut(owed, (id) =>
    familyOf(env, id)
      .revoke("session_ended", requestId)
      .then(() => true)
      .catch(() => false),
  );
  const left = owed.filter((_, i) => !done[i]);
  if (left.length > 0) kv.put(SESSION_REVOCATIONS, left);
  else kv.delete(SESSION_REVOCATIONS);
}
