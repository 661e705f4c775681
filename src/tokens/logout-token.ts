import type { ProviderConfig } from "../config";
import { signJwt } from "./jwt";
import { keyRing } from "./keyring";
import type { SigningAlg } from "./signing-keys";

/**
 * The Logout Token of OpenID Connect Back-Channel Logout 1.0 §2.4, signed in
 * the Worker's way with the key ring ("Logout Tokens MUST be signed ... with
 * the same keys ... as for ID Tokens"), with the client's ID token algorithm.
 *
 * §2.4's claims: iss, aud ("Audience(s), as specified in Section 2 of
 * [OpenID.Core]": the client), iat, exp, jti, events ("a JSON object
 * containing the member name http://schemas.openid.net/event/backchannel-logout
 * ... SHOULD be the empty JSON object {}"), and sub and sid ("A Logout Token
 * MUST contain either a sub or a sid Claim, and MAY contain both": we know
 * both, so a client that set backchannel_logout_session_required gets its
 * sid, and one that keys sessions by user gets its sub). "A nonce Claim MUST
 * NOT be present", so that a logout token can never pass for an ID token in
 * an authentication response; and typ `logout+jwt` (§2.4 and §4.1, explicit
 * typing) keeps it from passing for any other JWT of ours: verifyOwnJwt
 * takes only the typ it is asked for.
 */

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/**
 * How long a logout token is valid. §4 of the spec advises a short
 * lifetime ("e.g., two minutes"); a retry signs a new one, so a late
 * attempt never sends an expired token.
 */
export const LOGOUT_TOKEN_LIFETIME_SECONDS = 120;

export interface LogoutTokenInput {
  clientId: string;
  sub: string;
  sid: string;
  /** The same for every attempt of one delivery, so the client can tell a retry from a new logout (§2.6). */
  jti: string;
  iat: number;
  /** The client's id_token_signed_response_alg. */
  alg: SigningAlg;
}

export async function issueLogoutToken(
  env: Env,
  config: ProviderConfig,
  input: LogoutTokenInput,
): Promise<string> {
  const claims = {
    iss: config.issuer,
    sub: input.sub,
    aud: input.clientId,
    iat: input.iat,
    exp: input.iat + LOGOUT_TOKEN_LIFETIME_SECONDS,
    jti: input.jti,
    sid: input.sid,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  };
  return signJwt(await keyRing(env, config), "logout+jwt", claims, input.alg);
}
