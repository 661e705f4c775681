import type { ProviderConfig } from "../config";
import { logError } from "../log";
import { isAccessTokenRevoked } from "../revocation/lists";
import { verifyOwnJwt } from "./jwt";

/** The claims of one of our access tokens, once its signature and shape are checked. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string[];
  jti: string;
  iat: number;
  exp: number;
  auth_time?: number;
  /** The family (grant) it was issued from; absent for client_credentials. */
  fid?: string;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt: string };
}

export type AccessTokenStatus =
  | { state: "active"; claims: AccessTokenClaims }
  | { state: "invalid" }
  | { state: "revoked"; claims: AccessTokenClaims }
  | { state: "unknown"; claims: AccessTokenClaims };

/** Verifies signature, issuer, type and expiry; no I/O beyond the cached key ring. */
export async function readAccessToken(
  env: Env,
  config: ProviderConfig,
  token: string,
): Promise<AccessTokenClaims | undefined> {
  const payload = await verifyOwnJwt(env, config, token, "at+jwt");
  if (!payload) return undefined;
  const { sub, client_id, scope, jti, iat, exp, aud, iss, auth_time, fid, cnf } = payload as Record<
    string,
    unknown
  >;
  if (
    typeof sub !== "string" ||
    typeof client_id !== "string" ||
    typeof scope !== "string" ||
    typeof jti !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    typeof iss !== "string" ||
    (typeof aud !== "string" && !Array.isArray(aud)) ||
    (fid !== undefined && typeof fid !== "string")
  ) {
    return undefined;
  }
  const jkt = (cnf as { jkt?: unknown } | undefined)?.jkt;
  if (cnf !== undefined && typeof jkt !== "string") return undefined;
  return {
    iss,
    sub,
    aud: aud as string | string[],
    client_id,
    scope: scope.split(" ").filter(Boolean),
    jti,
    iat,
    exp,
    ...(typeof auth_time === "number" ? { auth_time } : {}),
    ...(typeof fid === "string" ? { fid } : {}),
    ...(typeof jkt === "string" ? { cnf: { jkt } } : {}),
  };
}

/**
 * An access token's standing: verified locally, then looked up in the KV
 * revocation lists. No Durable Object is called. When KV cannot be read the
 * answer is "unknown", and every caller treats that as not active (fail closed).
 */
export async function accessTokenStatus(
  env: Env,
  config: ProviderConfig,
  token: string,
): Promise<AccessTokenStatus> {
  const claims = await readAccessToken(env, config, token);
  if (!claims) return { state: "invalid" };
  try {
    return (await isAccessTokenRevoked(env, claims))
      ? { state: "revoked", claims }
      : { state: "active", claims };
  } catch (error) {
    logError("revocation_list_unreadable", error, { jti: claims.jti });
    return { state: "unknown", claims };
  }
}
