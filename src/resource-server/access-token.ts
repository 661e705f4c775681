import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { type Refusal, refuse } from "./challenge";

/** What a token may be bound to (RFC 7800 `cnf`): a DPoP key, a client certificate. */
export interface Confirmation {
  /** RFC 9449 §6.1: SHA-256 JWK thumbprint of the DPoP key. */
  jkt?: string;
  /** RFC 8705 §3.1: SHA-256 of the client certificate's DER. */
  "x5t#S256"?: string;
}

/** The claims of an RFC 9068 access token that passed every check. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  jti: string;
  iat: number;
  exp: number;
  scope?: string;
  cnf?: Confirmation;
}

/** Signature algorithms an access token may use: asymmetric only, never `none` or HS*. */
export const TOKEN_ALGS = ["ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "RS256"];

export type FetchLike = (request: Request) => Promise<Response>;

export interface KeySetOptions {
  /** The JWKS URL. */
  url: string;
  /** How to reach it, e.g. a service binding's fetch; the global fetch if absent. */
  fetch?: FetchLike;
  /**
   * The floor between two fetches of the key set (ms): a token with an
   * unknown `kid` makes us refetch at most this often, so forged `kid`s cannot
   * make us hammer the authorization server.
   */
  cooldownMs: number;
  /** How long a fetched key set is used before it is fetched again (ms). */
  maxAgeMs: number;
}

/**
 * jose's remote key set: cached in the isolate, refetched when a token's
 * `kid` is unknown once `cooldownMs` passed since the last fetch, and when
 * older than `maxAgeMs`.
 */
export function remoteKeySet(options: KeySetOptions): JWTVerifyGetKey {
  const viaFetch = options.fetch;
  return createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
    ...(viaFetch
      ? {
          [customFetch]: (url: string, init: RequestInit) => viaFetch(new Request(url, init)),
        }
      : {}),
  });
}

export interface TokenRules {
  issuer: string;
  /** RFC 9068 §4: the token's `aud` must contain (one of) these. */
  audience: string | readonly string[];
  /** Clock skew tolerated on exp, nbf and iat (seconds). */
  leewaySeconds: number;
}

/** RFC 9068 §2.2: the claims every access token carries. */
const REQUIRED = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

function readConfirmation(cnf: unknown): Confirmation | undefined | false {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== "object" || cnf === null || Array.isArray(cnf)) return false;
  const { jkt, "x5t#S256": x5t } = cnf as Record<string, unknown>;
  if (jkt !== undefined && typeof jkt !== "string") return false;
  if (x5t !== undefined && typeof x5t !== "string") return false;
  return cnf as Confirmation;
}

/** Why jose refused, in words a client may see (no token content in them). */
function explain(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "The access token has expired.";
  if (error instanceof errors.JWKSNoMatchingKey) {
    return "The access token is signed with a key this resource does not know.";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "The access token's signature does not verify.";
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "iss":
        return "The access token was issued by another authorization server.";
      case "aud":
        return "The access token is not meant for this resource.";
      case "typ":
        return "The access token's typ must be at+jwt (RFC 9068).";
      case "nbf":
        return "The access token is not valid yet.";
      case "iat":
        return "The access token's iat is in the future.";
      default:
        return `The access token lacks a valid ${/^[a-z_]+$/.test(error.claim) ? error.claim : "claim"} claim.`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return "The access token's signature algorithm is not accepted.";
  }
  return "The access token is malformed.";
}

/** Errors that say something about the token; any other is the key set's fetch failing. */
const TOKEN_ERRORS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
];

/** Our keys could not be read (unreachable, not 200, not a JWKS, too slow): no fault of the token. */
const KEYS_UNAVAILABLE = { ok: false, unavailable: true } as const;

/**
 * RFC 9068 §4: signature by a key of the issuer's JWKS, `typ` at+jwt (§4 item
 * 1 of the validation list; jose also accepts application/at+jwt), `iss`,
 * `aud`, `exp` with leeway, and the claims of §2.2 present.
 */
export async function verifyAccessToken(
  token: string,
  keys: JWTVerifyGetKey,
  rules: TokenRules,
): Promise<
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; refusal: Refusal }
  | typeof KEYS_UNAVAILABLE
> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      typ: "at+jwt",
      issuer: rules.issuer,
      audience: typeof rules.audience === "string" ? rules.audience : [...rules.audience],
      clockTolerance: rules.leewaySeconds,
      algorithms: TOKEN_ALGS,
      requiredClaims: REQUIRED,
    }));
  } catch (error) {
    if (!TOKEN_ERRORS.some((kind) => error instanceof kind)) return KEYS_UNAVAILABLE;
    return { ok: false, refusal: refuse(401, "invalid_token", explain(error)) };
  }
  const { sub, client_id, jti, iat, scope } = payload as Record<string, unknown>;
  const cnf = readConfirmation(payload.cnf);
  if (
    typeof sub !== "string" ||
    typeof client_id !== "string" ||
    typeof jti !== "string" ||
    typeof iat !== "number" ||
    (scope !== undefined && typeof scope !== "string") ||
    cnf === false
  ) {
    return {
      ok: false,
      refusal: refuse(401, "invalid_token", "The access token's claims are malformed."),
    };
  }
  // iat in the future beyond the leeway: not a token the issuer made yet.
  if (iat > Date.now() / 1000 + rules.leewaySeconds) {
    return {
      ok: false,
      refusal: refuse(401, "invalid_token", "The access token's iat is in the future."),
    };
  }
  return { ok: true, claims: payload as AccessTokenClaims };
}
