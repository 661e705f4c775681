import { fieldError, type JsonObject, optionalEnum, optionalStringArray } from "../lib/json-fields";
import { GRANTS_END_WITH_SESSION, type GrantsEndWithSession } from "./model";
import { redirectUriProblem } from "./redirect-uris";

/** A client's settings for login sessions and logout (README, "Sessions and logout"). */
export interface SessionSettings {
  post_logout_redirect_uris?: string[];
  grants_end_with_session?: GrantsEndWithSession;
}

/**
 * OIDC RP-Initiated Logout 1.0 §3.1: "post_logout_redirect_uris: Array of
 * URLs supplied by the RP to which it MAY request that the End-User's User
 * Agent be redirected using the post_logout_redirect_uri parameter after a
 * logout has been performed." They are checked as redirect URIs are (absolute,
 * https or loopback, no fragment), and compared exactly at logout.
 */
export function validateSessionSettings(merged: JsonObject): SessionSettings {
  const uris = [...new Set(optionalStringArray(merged, "post_logout_redirect_uris") ?? [])];
  uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) throw fieldError(`post_logout_redirect_uris[${i}]`, problem);
  });
  const rule = optionalEnum(merged, "grants_end_with_session", GRANTS_END_WITH_SESSION);
  return {
    ...(uris.length > 0 ? { post_logout_redirect_uris: uris } : {}),
    ...(rule !== undefined && rule !== "unless_offline" ? { grants_end_with_session: rule } : {}),
  };
}
