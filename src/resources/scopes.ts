import type { ResourceRecord } from "./model";

/**
 * RFC 8707 §2.2: "To the extent possible, when issuing access tokens, the
 * authorization server should downscope the scope value associated with an
 * access token to the value the respective resource is able to process and
 * needs to know." A scope that one of the other resources of the grant (or,
 * for client_credentials, of the client) defines, and the token's own
 * resource does not, stays out of the token: scopes a resource defines are
 * granted only for it. Scopes no such resource defines (openid, profile, or
 * the provider's own) go into every token, as before resources existed.
 */
export function scopeForAudience(
  scope: readonly string[],
  audience: ResourceRecord | undefined,
  others: readonly (ResourceRecord | undefined)[],
): string[] {
  const own = new Set(audience?.scopes ?? []);
  const foreign = new Set(
    others.flatMap((r) => (r && r.identifier !== audience?.identifier ? r.scopes : [])),
  );
  return scope.filter((s) => own.has(s) || !foreign.has(s));
}
