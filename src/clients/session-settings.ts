import {
  fieldError,
  type JsonObject,
  optionalBoolean,
  optionalEnum,
  optionalString,
  optionalStringArray,
} from "../lib/json-fields";
import { LOOPBACK_HOSTS } from "../lib/loopback";
import { GRANTS_END_WITH_SESSION, type GrantsEndWithSession } from "./model";
import { redirectUriProblem } from "./redirect-uris";

/** A client's settings for login sessions and logout (README, "Sessions and logout"). */
export interface SessionSettings {
  post_logout_redirect_uris?: string[];
  grants_end_with_session?: GrantsEndWithSession;
  /** OIDC Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed (src/sessions/logout-delivery.ts). */
  backchannel_logout_uri?: string;
  /** §2.2: the client wants `sid` in logout tokens; ours always carry it, so this is a promise kept. Absent: false. */
  backchannel_logout_session_required?: boolean;
}

const MAX_URI_LENGTH = 2000;

/**
 * OIDC RP-Initiated Logout 1.0 §3.1: "post_logout_redirect_uris: Array of
 * URLs supplied by the RP to which it MAY request that the End-User's User
 * Agent be redirected using the post_logout_redirect_uri parameter after a
 * logout has been performed." They are checked as redirect URIs are (absolute,
 * https or loopback, no fragment), and compared exactly at logout.
 *
 * OIDC Back-Channel Logout 1.0 §2.2: "backchannel_logout_uri: RP URL that
 * will cause the RP to log itself out when sent a Logout Token by the OP.
 * This URL SHOULD use the https scheme ... The URL MUST NOT include any
 * fragment component." The service POSTs to it from the server side, so
 * plain http is allowed only to a loopback host under `wrangler dev`
 * (`development`): nothing else of this machine's network is a target.
 */
export function validateSessionSettings(merged: JsonObject, development: boolean): SessionSettings {
  const uris = [...new Set(optionalStringArray(merged, "post_logout_redirect_uris") ?? [])];
  uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) throw fieldError(`post_logout_redirect_uris[${i}]`, problem);
  });
  const rule = optionalEnum(merged, "grants_end_with_session", GRANTS_END_WITH_SESSION);
  const backchannel =
    merged.backchannel_logout_uri === null
      ? undefined
      : optionalString(merged, "backchannel_logout_uri", MAX_URI_LENGTH);
  if (backchannel !== undefined) {
    const problem = backchannelUriProblem(backchannel, development);
    if (problem) throw fieldError("backchannel_logout_uri", problem);
  }
  const sessionRequired = optionalBoolean(merged, "backchannel_logout_session_required");
  return {
    ...(uris.length > 0 ? { post_logout_redirect_uris: uris } : {}),
    ...(rule !== undefined && rule !== "unless_offline" ? { grants_end_with_session: rule } : {}),
    ...(backchannel !== undefined ? { backchannel_logout_uri: backchannel } : {}),
    ...(sessionRequired ? { backchannel_logout_session_required: true } : {}),
  };
}

/** Why a URI cannot be a back-channel logout URI, or undefined when it can. */
export function backchannelUriProblem(uri: string, development: boolean): string | undefined {
  if (uri.includes("#")) return "must not contain a fragment";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "must be an absolute https URL";
  }
  if (url.username || url.password) return "must not contain user information";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && development && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return development ? "must be an https URL (or http on a loopback host)" : "must be an https URL";
}
