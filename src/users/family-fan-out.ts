import { familyObject } from "../families/gateway";
import type { RevocationReason } from "../families/model";
import type { FamilySummary } from "../families/token-family";
import type { RequestId } from "../log";
import type { FamilyIndex } from "./family-index";

/**
 * Calls to the families of a user's index, from the User object: a fan-out
 * a few at a time, and the grants list built from the families' summaries.
 */

export interface GrantView {
  grant_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  last_refresh_at: number | null;
  expires_at: number | null;
  refresh_token: boolean;
  /**
   * Whether it belongs to the login session it was made in and ends with it
   * (README, "Sessions and logout"); false: it keeps access while the user is
   * signed out.
   */
  ends_with_session: boolean;
}

/** A family in this user's index (its id came from this namespace, so it resolves). */
export function familyOf(env: Env, familyId: string) {
  const family = familyObject(env, familyId);
  if (!family) throw new Error("a family id in the index does not resolve");
  return family;
}

/** How many family Durable Objects a fan-out calls at once. */
const FAN_OUT = 25;

/** Calls `call` for every item, FAN_OUT at a time; the results in order. */
export async function fanOut<I, T>(items: I[], call: (item: I) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < items.length; i += FAN_OUT) {
    out.push(...(await Promise.all(items.slice(i, i + FAN_OUT).map(call))));
  }
  return out;
}

/** Revokes the families `ids` for `reason`; the ids of those that were live. */
export async function revokeFamilies(
  env: Env,
  ids: string[],
  reason: RevocationReason,
  requestId: RequestId,
): Promise<string[]> {
  const live = await fanOut(ids, (id) => familyOf(env, id).revoke(reason, requestId));
  return ids.filter((_, i) => live[i]);
}

/** The grants that can still be used: live families, newest first; a family gone is forgotten. */
export async function grantViews(
  env: Env,
  families: FamilyIndex,
  forget: (familyId: string) => void,
): Promise<GrantView[]> {
  const ids = families.ids();
  const summaries = await fanOut(ids, (id) => familyOf(env, id).summary());
  const now = Date.now();
  const views: GrantView[] = [];
  summaries.forEach((summary: FamilySummary | undefined, i) => {
    const id = ids[i] as string;
    if (!summary) {
      forget(id); // deleted by its own cleanup
      return;
    }
    if (summary.status !== "active" || (summary.expiresAt ?? 0) <= now) return;
    views.push({
      grant_id: id,
      client_id: summary.clientId,
      scope: summary.scope.join(" "),
      created_at: Math.floor(summary.createdAt / 1000),
      last_refresh_at:
        summary.lastUsedAt && summary.lastUsedAt !== summary.createdAt
          ? Math.floor(summary.lastUsedAt / 1000)
          : null,
      expires_at: summary.expiresAt ? Math.floor(summary.expiresAt / 1000) : null,
      refresh_token: summary.refreshToken,
      ends_with_session: families.get(id)?.sid !== undefined,
    });
  });
  return views.sort((a, b) => b.created_at - a.created_at);
}
