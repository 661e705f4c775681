import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { LIMITS, type ProviderConfig } from "../config";
import { sha256, toBase64Url, utf8 } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import type { KeyRing } from "./keyring";
import { verificationKey } from "./keyring";
import { ACCESS_TOKEN_ALG, type SigningAlg } from "./signing-keys";

/** How far ahead of our clock a token's iat may be (another isolate's clock). */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Signs claims with the active key of `alg`; `typ` names the kind of token
 * (RFC 9068 §2.1; OIDC Back-Channel Logout 1.0 §2.4 for `logout+jwt`), so
 * that no kind can pass for another. Access tokens are always ES256.
 */
export function signJwt(
  ring: KeyRing,
  typ: "at+jwt" | "JWT" | "logout+jwt",
  claims: JWTPayload,
  alg: SigningAlg = ACCESS_TOKEN_ALG,
): Promise<string> {
  const { kid, key } = ring.signing[alg];
  return new SignJWT(claims).setProtectedHeader({ alg, typ, kid }).sign(key);
}

/**
 * Verifies one of our own JWTs: our algorithm, a kid we publish, our issuer,
 * the expected `typ`, not expired. Anything else is `undefined`: callers turn
 * that into their endpoint's own answer (`active: false`, `invalid_token`).
 */
export async function verifyOwnJwt(
  env: Env,
  config: ProviderConfig,
  token: string,
  typ: "at+jwt" | "JWT",
  /** OIDC Core §3.1.2.1: an id_token_hint may have expired; it still names its user. */
  options: { expiredOk?: boolean } = {},
): Promise<JWTPayload | undefined> {
  if (token.length > 8192 || token.split(".").length !== 3) return undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== "string" || header.typ !== typ) return undefined;
    // The key decides the algorithm (never the header alone); access tokens are ES256 only.
    const verifier = await verificationKey(env, config, header.kid);
    if (!verifier || header.alg !== verifier.alg) return undefined;
    if (typ === "at+jwt" && verifier.alg !== ACCESS_TOKEN_ALG) return undefined;
    const { payload } = await jwtVerify(token, verifier.key, {
      algorithms: [verifier.alg],
      issuer: config.issuer,
      typ,
      requiredClaims: ["exp", "iat", "sub", "jti"],
      ...(options.expiredOk ? { clockTolerance: Number.MAX_SAFE_INTEGER } : {}),
    });
    // No token of ours lives longer than the maximum, nor starts in the future:
    // one that claims otherwise was not made by this service (a stolen key, say)
    // and is refused, so no token can outlive the retention of its key.
    const { iat, exp } = payload as { iat: number; exp: number };
    const max = typ === "at+jwt" ? LIMITS.maxAccessTokenLifetime : LIMITS.maxIdTokenLifetime;
    if (exp - iat > max || iat > nowSeconds() + CLOCK_SKEW_SECONDS) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

/** OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url. */
export async function atHash(accessToken: string): Promise<string> {
  return toBase64Url((await sha256(utf8(accessToken))).slice(0, 16));
}
