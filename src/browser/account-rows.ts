import type { GrantView } from "../users/family-fan-out";
import type { AppRow } from "./pages/account";

/**
 * The account page lists apps, not grants: one row per client, its live
 * grants together. A person thinks "which apps can act for me", and every
 * sign-in to an app without offline_access makes a grant of its own, so
 * per-grant rows would list one app many times; and "Remove access" must
 * leave the app with no access at all, which revoking one grant of several
 * would not. (Pure: the names come from the caller.)
 */

export interface AppName {
  name: string | undefined;
  describedAt?: string;
}

export function appRows(
  grants: readonly GrantView[],
  names: ReadonlyMap<string, AppName>,
): AppRow[] {
  const rows = new Map<string, AppRow>();
  for (const grant of grants) {
    const scopes = grant.scope.split(" ").filter(Boolean);
    const known = rows.get(grant.client_id);
    const row: AppRow = known ?? {
      clientId: grant.client_id,
      ...(names.get(grant.client_id) ?? { name: undefined }),
      scopes: [],
      since: grant.created_at,
      lastUsed: null,
      expires: grant.expires_at,
      offline: false,
    };
    row.scopes = [...new Set([...row.scopes, ...scopes])];
    row.since = Math.min(row.since, grant.created_at);
    if (grant.last_refresh_at !== null)
      row.lastUsed = Math.max(row.lastUsed ?? 0, grant.last_refresh_at);
    row.expires =
      row.expires === null || grant.expires_at === null
        ? null
        : Math.max(row.expires, grant.expires_at);
    // What the grant does at sign-out decides, not the scope alone: a client's
    // grants_end_with_session may end offline grants too, or keep the others.
    row.offline ||= !grant.ends_with_session;
    rows.set(grant.client_id, row);
  }
  // The app allowed most recently first.
  return [...rows.values()].sort((a, b) => b.since - a.since);
}
