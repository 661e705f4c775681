import type { ProviderConfig } from "../config";
import { logError } from "../log";
import { isAccessTokenRevoked } from "../revocation/lists";
import { verifyOwnJwt } from "./jwt";

/**
 * What a sender-constrained token is bound to (RFC 7800 `cnf`): a DPoP key
 * (RFC 9449 §6.1, `jkt`), a TLS client certificate (RFC 8705 §3.1,
 * `x5t#S256`), or both when the request that obtained it proved both. Never
 * neither: an unbound token has no `cnf` at all.
 */
export type Confirmation =
  | { jkt: string; "x5t#S256"?: string }
  | { jkt?: never; "x5t#S256": string };

/** The confirmation for what a request proved, or undefined when it proved nothing. */
export function confirmation(jkt?: string, x5t?: string): Confirmation | undefined {
  if (jkt !== undefined) return { jkt, ...(x5t !== undefined ? { "x5t#S256": x5t } : {}) };
  return x5t !== undefined ? { "x5t#S256": x5t } : undefined;
}

/** A `cnf` claim as a token carries it, strictly: one or both members, strings, nothing else. */
function readConfirmation(cnf: unknown): Confirmation | undefined | false {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== "object" || cnf === null || Array.isArray(cnf)) return false;
  const { jkt, "x5t#S256": x5t, ...rest } = cnf as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return false;
  if (
    (jkt !== undefined && typeof jkt !== "string") ||
    (x5t !== undefined && typeof x5t !== "string")
  )
    return false;
  return confirmation(jkt, x5t) ?? false;
}

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
  /** RFC 9449 §6.1, RFC 8705 §3.1: the key and/or certificate the token is bound to. */
  cnf?: Confirmation;
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
  const confirmed = readConfirmation(cnf);
  if (confirmed === false) return undefined;
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
    ...(confirmed ? { cnf: confirmed } : {}),
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
