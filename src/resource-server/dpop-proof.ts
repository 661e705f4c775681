import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from "jose";

/**
 * A DPoP proof at a protected resource (RFC 9449 §4.3 and §7.1): one JWT,
 * `typ` dpop+jwt, an asymmetric `alg`, signed by the public key in its `jwk`
 * header, made for this method and URL, recently, for this access token
 * (`ath`), and by the key the token is bound to (`cnf.jkt`). Replay of its
 * `jti` is ./replay.ts's. This is the resource server's own copy of the
 * checks, so the module depends on nothing of the authorization server.
 */

/** RFC 9449 §4.3 item 5; advertised in the DPoP challenge's `algs` (§7.1). */
export const PROOF_ALGS = ["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"];

/** Members only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

export interface ProofTarget {
  method: string;
  /** The request's URL; its query and fragment are ignored (§4.3 item 9). */
  url: string;
  accessToken: string;
  /** The thumbprint the token is bound to (`cnf.jkt`). */
  jkt: string;
  /** Now, in seconds. */
  now: number;
  /** How far from now a proof's iat may be (seconds). */
  windowSeconds: number;
}

export type ProofResult =
  | { ok: true; jti: string; iat: number }
  | { ok: false; description: string };

const no = (description: string): ProofResult => ({ ok: false, description });

/** RFC 9449 §4.3 item 9, with the normalisation of RFC 3986 §6.2.2-6.2.3 the URL parser does. */
function sameTarget(htu: string, url: string): boolean {
  let claimed: URL;
  let actual: URL;
  try {
    claimed = new URL(htu);
    actual = new URL(url);
  } catch {
    return false;
  }
  return (
    claimed.protocol === actual.protocol &&
    claimed.host === actual.host &&
    claimed.pathname === actual.pathname &&
    claimed.username === "" &&
    claimed.password === ""
  );
}

export async function sha256Base64Url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url.encode(new Uint8Array(digest));
}

export async function checkProof(header: string | null, target: ProofTarget): Promise<ProofResult> {
  // Items 1 and 2: exactly one DPoP header (repeats arrive comma-joined), one JWT.
  if (!header || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(header)) {
    return no("A DPoP-bound access token needs exactly one DPoP proof.");
  }
  let jwk: JWK;
  try {
    const protectedHeader = decodeProtectedHeader(header);
    jwk = protectedHeader.jwk as JWK;
  } catch {
    return no("The DPoP proof is not a well-formed JWT.");
  }
  // Item 7.
  if (typeof jwk !== "object" || jwk === null || PRIVATE_MEMBERS.some((m) => m in jwk)) {
    return no("The DPoP proof must carry a public key in its jwk header.");
  }
  // Items 4, 5 and 6: typ, alg, and the signature by the embedded key.
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(header, EmbeddedJWK, {
      typ: "dpop+jwt",
      algorithms: PROOF_ALGS,
    }));
  } catch {
    return no("The DPoP proof's typ, alg or signature is not acceptable.");
  }
  // §7.1: the proof's key is the one the token is bound to.
  if ((await calculateJwkThumbprint(jwk, "sha256")) !== target.jkt) {
    return no("The DPoP proof is signed by another key than the token is bound to.");
  }
  const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) {
    return no("The DPoP proof needs a jti of 1 to 256 characters.");
  }
  if (typeof htm !== "string" || typeof htu !== "string" || typeof iat !== "number") {
    return no("The DPoP proof needs htm, htu and iat claims.");
  }
  // Items 8, 9, 11.
  if (htm !== target.method) return no("The DPoP proof was made for another HTTP method.");
  if (!sameTarget(htu, target.url)) return no("The DPoP proof was made for another URL.");
  if (Math.abs(target.now - iat) > target.windowSeconds) {
    return no("The DPoP proof's iat is too far from the resource server's time.");
  }
  // Item 12: "the value of the ath claim equals the hash of that access token".
  if (ath !== (await sha256Base64Url(target.accessToken))) {
    return no("The DPoP proof's ath is not the hash of this access token.");
  }
  return { ok: true, jti, iat };
}
