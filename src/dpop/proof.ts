import { decodeProtectedHeader, importJWK, type JWK, type JWTPayload, jwtVerify } from "jose";
import { sha256, toBase64Url, utf8 } from "../lib/bytes";
import { IsolateCache } from "../lib/isolate-cache";

/**
 * A DPoP proof (RFC 9449 §4), checked for everything that needs no state:
 * its form, its signature by the key it carries, and that it was made for
 * this request. Nonces and replay are ./check.ts's.
 */

/**
 * RFC 9449 §4.3 item 5: "a registered asymmetric digital signature
 * algorithm, is not none, is supported by the application, and is
 * acceptable per local policy". Advertised as dpop_signing_alg_values_supported.
 */
export const DPOP_ALGS = ["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"] as const;

/**
 * How far from now a proof's `iat` may be (RFC 9449 §11.1: "within an
 * acceptable window"). A proof is refused after this, so a `jti` need only be
 * remembered this long after its `iat`.
 */
export const PROOF_WINDOW_SECONDS = 60;

/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

export interface ProofTarget {
  /** The request's method (RFC 9449 §4.3 item 8). */
  method: string;
  /** The endpoint's URL as discovery advertises it (item 9). */
  url: string;
  /** The access token the request carries, whose hash `ath` must be (item 12). */
  accessToken?: string;
  /** Now, in seconds. */
  now: number;
}

export interface Proof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what a token is bound to (`cnf.jkt`). */
  jkt: string;
  jti: string;
  iat: number;
  /** When the proof stops being acceptable (ms): its `jti` need be remembered until then. */
  until: number;
  nonce?: string;
}

export type ProofCheck = { ok: true; proof: Proof } | { ok: false; description: string };

const refuse = (description: string): ProofCheck => ({ ok: false, description });

/**
 * RFC 7638 §3.2: the members of each key type a thumbprint hashes (exactly
 * those that make the public key), in lexicographic order.
 */
const THUMBPRINT_MEMBERS = new Map<unknown, readonly string[]>([
  ["EC", ["crv", "kty", "x", "y"]],
  ["RSA", ["e", "kty", "n"]],
  ["OKP", ["crv", "kty", "x"]],
]);

/** RFC 7638 §3.1: the JSON the thumbprint is the SHA-256 of; undefined if a member is missing. */
function thumbprintInput(jwk: JWK): string | undefined {
  // A Map, not an object: a `kty` of "constructor" or "__proto__" names nothing here.
  const members = THUMBPRINT_MEMBERS.get(jwk.kty);
  if (!members) return undefined;
  const picked: Record<string, string> = {};
  for (const name of members) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== "string" || value === "") return undefined;
    picked[name] = value;
  }
  return JSON.stringify(picked);
}

/**
 * Proof keys already seen in this isolate, by their thumbprint input: the
 * thumbprint, and the key imported for each alg. A client signs every proof
 * with one key; hashing and importing it again would cost about as much as
 * the signature check. One thumbprint input is one public key, and the key is
 * imported from exactly those members, so nothing else a proof's `jwk` says
 * (`key_ops`, `ext`, ...) can shape the cached key; `use` and `alg` are
 * checked on every proof. An entry is made only once its key imported.
 */
interface SeenKey {
  jkt: string;
  imported: Map<string, CryptoKey>;
}
const seenKeys = new IsolateCache<SeenKey>(1000);
const KEY_CACHE_MS = 10 * 60 * 1000;

async function proofKey(
  jwk: JWK,
  alg: string,
): Promise<{ jkt: string; key: CryptoKey } | undefined> {
  const input = thumbprintInput(jwk);
  if (!input) return undefined;
  const seen = seenKeys.get(input);
  const cached = seen?.imported.get(alg);
  if (seen && cached) return { jkt: seen.jkt, key: cached };
  let key: CryptoKey;
  try {
    key = (await importJWK(JSON.parse(input) as JWK, alg)) as CryptoKey;
  } catch {
    return undefined;
  }
  if (seen) {
    seen.imported.set(alg, key);
    return { jkt: seen.jkt, key };
  }
  const jkt = toBase64Url(await sha256(utf8(input)));
  seenKeys.set(input, { jkt, imported: new Map([[alg, key]]) }, Date.now() + KEY_CACHE_MS);
  return { jkt, key };
}

/**
 * RFC 9449 §4.3 "htu ... ignoring any query and fragment parts", after the
 * syntax- and scheme-based normalisation it recommends (RFC 3986 §6.2.2,
 * §6.2.3: case of scheme and host, default port, dot segments), which the
 * URL parser does.
 */
function sameTarget(htu: string, url: string): boolean {
  if (htu === url) return true; // as clients send it: the advertised URL, verbatim
  let claimed: URL;
  try {
    claimed = new URL(htu);
  } catch {
    return false;
  }
  const expected = new URL(url);
  return (
    claimed.protocol === expected.protocol &&
    claimed.host === expected.host &&
    claimed.pathname === expected.pathname &&
    claimed.username === "" &&
    claimed.password === ""
  );
}

/** The RFC 9449 §4.3 checks of one `DPoP` header value, but for nonce and replay. */
export async function verifyProof(
  header: string | null | undefined,
  target: ProofTarget,
): Promise<ProofCheck> {
  // Item 1: "not more than one DPoP HTTP request header field" (repeated
  // fields arrive joined by a comma, which a JWT never contains); item 2:
  // "a single and well-formed JWT".
  if (!header || header.includes(",") || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(header)) {
    return refuse("The DPoP header must carry exactly one proof, a JWT.");
  }
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(header);
  } catch {
    return refuse("The DPoP proof is not a well-formed JWT.");
  }
  // Item 4.
  if (protectedHeader.typ !== "dpop+jwt") return refuse("The DPoP proof's typ must be dpop+jwt.");
  // Item 5.
  const alg = protectedHeader.alg;
  if (!DPOP_ALGS.includes(alg as (typeof DPOP_ALGS)[number])) {
    return refuse(`The DPoP proof's alg must be one of ${DPOP_ALGS.join(", ")}.`);
  }
  // Item 7: "the jwk JOSE Header Parameter does not contain a private key".
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    return refuse("The DPoP proof must carry its public key in the jwk header.");
  }
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) {
    return refuse("The DPoP proof's jwk must be a public key, never a private or secret one.");
  }
  // RFC 7517 §4.2, §4.4: a key marked for another use or algorithm is not this proof's.
  if ((jwk.use !== undefined && jwk.use !== "sig") || (jwk.alg !== undefined && jwk.alg !== alg)) {
    return refuse("The DPoP proof's jwk is marked for another use or algorithm.");
  }
  const found = await proofKey(jwk, alg as string);
  if (!found) return refuse("The DPoP proof's jwk is not a public key for its alg.");
  const { jkt, key } = found;
  // Item 6: the signature, by the key in the header.
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(header, key, { typ: "dpop+jwt", algorithms: [alg as string] }));
  } catch {
    return refuse("The DPoP proof's signature does not verify with its jwk.");
  }
  // Item 3: the claims of §4.2.
  const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) {
    return refuse("The DPoP proof needs a jti of 1 to 256 characters.");
  }
  if (typeof htm !== "string" || typeof htu !== "string" || typeof iat !== "number") {
    return refuse("The DPoP proof needs htm, htu and iat claims.");
  }
  if (nonce !== undefined && typeof nonce !== "string") {
    return refuse("The DPoP proof's nonce must be a string.");
  }
  // Items 8 and 9.
  if (htm !== target.method) return refuse("The DPoP proof was made for another HTTP method.");
  if (!sameTarget(htu, target.url)) return refuse("The DPoP proof was made for another URL.");
  // Item 11.
  if (Math.abs(target.now - iat) > PROOF_WINDOW_SECONDS) {
    return refuse(
      `The DPoP proof's iat is more than ${PROOF_WINDOW_SECONDS} seconds from the server's time.`,
    );
  }
  // Item 12: "the value of the ath claim equals the hash of that access token".
  if (target.accessToken !== undefined) {
    const expected = toBase64Url(await sha256(utf8(target.accessToken)));
    if (ath !== expected)
      return refuse("The DPoP proof's ath is not the hash of this access token.");
  }
  return {
    ok: true,
    proof: {
      jkt,
      jti,
      iat,
      until: (iat + PROOF_WINDOW_SECONDS + 1) * 1000,
      ...(nonce !== undefined ? { nonce } : {}),
    },
  };
}
