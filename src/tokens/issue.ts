import type { ProviderConfig } from "../config";
import { randomBytes, toBase64Url } from "../lib/bytes";
import { formatScope } from "../scope";
import { confirmation } from "./access-token";
import { atHash, signJwt } from "./jwt";
import { keyRing } from "./keyring";
import type { SigningAlg } from "./signing-keys";

/** Access tokens (RFC 9068) and ID tokens (OIDC Core §2), signed in the Worker. */

export interface AccessTokenInput {
  clientId: string;
  /** The user, or the client itself for client_credentials (RFC 9068 §2.2). */
  sub: string;
  scope: readonly string[];
  /**
   * RFC 9068 §3, RFC 8707 §2: the one resource the token is for (a registered
   * resource's identifier, or the provider's default audience).
   */
  audience: string;
  /** The grant this token belongs to; revoking the family revokes the token. */
  familyId?: string;
  authTime?: number;
  iat: number;
  exp: number;
  /** RFC 9449 §6.1: bound to this DPoP key (`cnf.jkt`). */
  jkt?: string;
  /** RFC 8705 §3.1: bound to this TLS client certificate (`cnf["x5t#S256"]`). */
  x5t?: string;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
}

export async function issueAccessToken(
  env: Env,
  config: ProviderConfig,
  input: AccessTokenInput,
): Promise<IssuedAccessToken> {
  const jti = toBase64Url(randomBytes(16));
  const cnf = confirmation(input.jkt, input.x5t);
  const token = await signJwt(await keyRing(env, config), "at+jwt", {
    iss: config.issuer,
    sub: input.sub,
    aud: input.audience,
    client_id: input.clientId,
    scope: formatScope(input.scope),
    jti,
    iat: input.iat,
    exp: input.exp,
    ...(input.authTime !== undefined ? { auth_time: input.authTime } : {}),
    ...(input.familyId ? { fid: input.familyId } : {}),
    ...(cnf ? { cnf } : {}),
  });
  return { token, jti };
}

export interface IdTokenInput {
  clientId: string;
  sub: string;
  authTime: number;
  /**
   * The login session's id (OpenID Connect Front-Channel and Back-Channel
   * Logout: "sid ... Session ID - String identifier for a Session"), so that
   * a relying party can match a logout to this sign-in.
   */
  sid?: string;
  /** Only in the ID token of the authorization code response (OIDC Core §12.2: not on refresh). */
  nonce?: string;
  accessToken: string;
  iat: number;
  /** The client's id_token_signed_response_alg. */
  alg: SigningAlg;
}

export async function issueIdToken(
  env: Env,
  config: ProviderConfig,
  input: IdTokenInput,
): Promise<string> {
  const claims = {
    iss: config.issuer,
    sub: input.sub,
    aud: input.clientId,
    azp: input.clientId,
    iat: input.iat,
    exp: input.iat + config.idTokenLifetime,
    auth_time: input.authTime,
    at_hash: await atHash(input.accessToken),
    jti: toBase64Url(randomBytes(16)),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    ...(input.sid !== undefined ? { sid: input.sid } : {}),
  };
  return signJwt(await keyRing(env, config), "JWT", claims, input.alg);
}
