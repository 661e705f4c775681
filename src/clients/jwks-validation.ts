import type { JWK } from "jose";
import { asObject, fieldError, rejectUnknown } from "../lib/json-fields";
import { certificateDer } from "../mtls/x509";

/**
 * A client's JWK Set (RFC 7517 §5) as the admin API takes it: public keys
 * only, each with exactly the members its type has. private_key_jwt verifies
 * assertions with them; self_signed_tls_client_auth takes its certificates
 * from their `x5c` (RFC 8705 §2.2.2).
 */

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];
/** The members a public key of each type cannot do without (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const PUBLIC_JWK_MEMBERS = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"] } as const;
/** RFC 7517 §4 members any key may carry (and WebCrypto's `ext`). */
const COMMON_JWK_MEMBERS = [
  "kty",
  "use",
  "key_ops",
  "alg",
  "kid",
  "x5u",
  "x5c",
  "x5t",
  "x5t#S256",
  "ext",
];
/** Curves a client's signing key may use (RFC 7518 §6.2.1.1, RFC 8037 §2). */
const CURVES: Record<string, readonly string[]> = {
  EC: ["P-256", "P-384", "P-521"],
  OKP: ["Ed25519"],
};

/**
 * Every member of a public JWK, strictly: only the members RFC 7517 and RFC
 * 7518 define for its type, each of its type (strings; key_ops and x5c lists
 * of strings; ext a boolean), and a known curve. Anything else would be
 * stored and handed to the JOSE library on every assertion.
 */
function jwkMembersProblem(
  jwk: Record<string, unknown>,
  kty: keyof typeof PUBLIC_JWK_MEMBERS,
  field: string,
): void {
  const allowed = new Set<string>([...COMMON_JWK_MEMBERS, ...PUBLIC_JWK_MEMBERS[kty]]);
  for (const [name, value] of Object.entries(jwk)) {
    if (!allowed.has(name))
      throw fieldError(field, `has a member a public ${kty} key does not have`);
    const ok =
      name === "ext"
        ? typeof value === "boolean"
        : name === "key_ops" || name === "x5c"
          ? Array.isArray(value) &&
            value.length <= 10 &&
            value.every((v) => typeof v === "string" && v.length <= 8192)
          : typeof value === "string" && value.length <= 8192;
    if (!ok) throw fieldError(`${field}.${name}`, "has the wrong type or size for a JWK member");
  }
  const curves = CURVES[kty];
  if (curves && !curves.includes(jwk.crv as string)) {
    throw fieldError(`${field}.crv`, `must be one of ${curves.join(", ")}`);
  }
}

export interface JwksRules {
  /**
   * RFC 8705 §2.2.2: "A certificate is represented with the x5c parameter of
   * an individual JWK within the set": every key must carry one.
   */
  certificates: boolean;
}

export function validateJwks(value: unknown, rules: JwksRules): { keys: JWK[] } {
  const input = asObject(value, "jwks");
  rejectUnknown(input, ["keys"], "jwks.");
  const keys = input.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 10) {
    throw fieldError("jwks.keys", "must be an array of 1 to 10 keys");
  }
  return {
    keys: keys.map((key, i) => {
      const jwk = asObject(key, `jwks.keys[${i}]`);
      if (!["RSA", "EC", "OKP"].includes(jwk.kty as string)) {
        throw fieldError(`jwks.keys[${i}].kty`, "must be RSA, EC or OKP");
      }
      if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) {
        throw fieldError(
          `jwks.keys[${i}]`,
          "must be a public key (it contains private key material)",
        );
      }
      // RFC 7518 §6: without these members the key can verify nothing, and the
      // client could never authenticate; say so now rather than at the token endpoint.
      const kty = jwk.kty as keyof typeof PUBLIC_JWK_MEMBERS;
      const members = PUBLIC_JWK_MEMBERS[kty];
      if (members.some((m) => typeof jwk[m] !== "string" || jwk[m] === "")) {
        throw fieldError(`jwks.keys[${i}]`, `a ${jwk.kty} key needs ${members.join(", ")}`);
      }
      jwkMembersProblem(jwk, kty, `jwks.keys[${i}]`);
      x5cProblem(jwk.x5c as string[] | undefined, `jwks.keys[${i}].x5c`, rules);
      return jwk as JWK;
    }),
  };
}

/**
 * RFC 7517 §4.7: x5c is a chain of "base64-encoded ... DER" certificates,
 * the key's own first. Each must be one, here, whatever the method: the
 * stored set is what every later check reads.
 */
function x5cProblem(x5c: string[] | undefined, field: string, rules: JwksRules): void {
  if (x5c === undefined) {
    if (rules.certificates)
      throw fieldError(
        field,
        "is required: self_signed_tls_client_auth needs each key's certificate",
      );
    return;
  }
  if (x5c.length === 0) throw fieldError(field, "must hold at least one certificate");
  x5c.forEach((certificate, j) => {
    if (!certificateDer(certificate))
      throw fieldError(`${field}[${j}]`, "must be a base64 (not base64url) DER certificate");
  });
}
