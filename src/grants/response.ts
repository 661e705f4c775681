import type { ClientRecord } from "../clients/model";
import type { ProviderConfig } from "../config";
import { formatScope } from "../scope";
import { issueAccessToken, issueIdToken } from "../tokens/issue";
import { keyRing } from "../tokens/keyring";

/** The successful token response of RFC 6749 §5.1 (and OIDC Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5: "DPoP" when the access token is bound to a DPoP key. */
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** The access token's window, fixed before the family is called (it records the latest exp). */
export interface TokenWindow {
  iat: number;
  exp: number;
}

/**
 * Gets the signing keys ready before the grant's family is called: once a
 * code is redeemed or a refresh token rotated, what follows must not fail on
 * anything that could have failed first (a client whose answer is lost would
 * present its old token again, and without a grace window that is reuse).
 */
export async function readyToSign(env: Env, config: ProviderConfig): Promise<void> {
  await keyRing(env, config);
}

/** What a response is about: a user's grant (a family) or, for client_credentials, the client. */
export interface Issuance {
  client: ClientRecord;
  /** The user, or the client itself for client_credentials (RFC 9068 §2.2). */
  sub: string;
  scope: readonly string[];
  /** RFC 8707: the `aud` of the access token, one resource (./audience.ts). */
  audience: string;
  window: TokenWindow;
  /** The grant's family: revoking it revokes the access token (`fid`). */
  familyId?: string;
  /** When the user signed in; present for user grants, and so the ID token. */
  authTime?: number;
  /** The login session the grant was made in: its ID tokens carry it. */
  sid?: string;
  refreshToken?: string;
  /** OIDC Core §3.1.3.6: the ID token of a code response repeats the request's nonce; §12.2: never on refresh. */
  nonce?: string;
  /** RFC 9449 §6: the thumbprint of the DPoP key the access token is bound to. */
  jkt?: string;
  /** RFC 8705 §3: the thumbprint of the TLS client certificate it is bound to. */
  x5t?: string;
}

/**
 * Builds the token response every grant returns: the RFC 9068 access token,
 * the refresh token when one was issued, and (OIDC Core §3.1.3.3, §12.2) an
 * ID token when the grant is a user's and its scope includes `openid`.
 */
export async function tokenResponse(
  env: Env,
  config: ProviderConfig,
  issuance: Issuance,
): Promise<{ response: TokenResponse; jti: string }> {
  const { client, sub, scope, window } = issuance;
  const accessToken = await issueAccessToken(env, config, {
    clientId: client.client_id,
    sub,
    scope,
    audience: issuance.audience,
    iat: window.iat,
    exp: window.exp,
    ...(issuance.familyId ? { familyId: issuance.familyId } : {}),
    ...(issuance.authTime !== undefined ? { authTime: issuance.authTime } : {}),
    ...(issuance.jkt !== undefined ? { jkt: issuance.jkt } : {}),
    ...(issuance.x5t !== undefined ? { x5t: issuance.x5t } : {}),
  });
  const response: TokenResponse = {
    access_token: accessToken.token,
    // RFC 8705 tokens stay Bearer tokens (RFC 6750 at the resource, over mutual TLS).
    token_type: issuance.jkt !== undefined ? "DPoP" : "Bearer",
    expires_in: window.exp - window.iat,
    scope: formatScope(scope),
    ...(issuance.refreshToken ? { refresh_token: issuance.refreshToken } : {}),
  };
  if (issuance.authTime !== undefined && scope.includes("openid")) {
    response.id_token = await issueIdToken(env, config, {
      clientId: client.client_id,
      sub,
      authTime: issuance.authTime,
      accessToken: accessToken.token,
      iat: window.iat,
      alg: client.id_token_signed_response_alg ?? "ES256",
      ...(issuance.nonce !== undefined ? { nonce: issuance.nonce } : {}),
      ...(issuance.sid !== undefined ? { sid: issuance.sid } : {}),
    });
  }
  return { response, jti: accessToken.jti };
}
