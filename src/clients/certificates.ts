import { exportJWK, importX509, type JWK } from "jose";
import { fieldError } from "../lib/json-fields";
import { certificateDer, certificateThumbprint } from "../mtls/x509";

/**
 * The certificates of a self_signed_tls_client_auth client (RFC 8705 §2.2),
 * checked and reduced to what authentication compares: their `x5t#S256`.
 */

/** The JOSE algorithm a key of this type is imported as (only to read its public key). */
function importAlg(jwk: JWK): string | undefined {
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "OKP") return "EdDSA";
  return { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[jwk.crv ?? ""];
}

/** The members that say which public key a JWK is (RFC 7638 §3.2's, without kty). */
const KEY_MEMBERS = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"] } as const;

const pem = (base64: string) =>
  `-----BEGIN CERTIFICATE-----\n${base64.replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----`;

async function certificateKey(base64: string, alg: string): Promise<JWK | undefined> {
  try {
    return await exportJWK(await importX509(pem(base64), alg, { extractable: true }));
  } catch {
    return undefined;
  }
}

/**
 * The thumbprint of each key's certificate (its `x5c[0]`), after checking
 * what RFC 7517 §4.7 requires: "The key in the first certificate MUST match
 * the public key represented by other members of the JWK." (RFC 8705 §2.2.2
 * repeats it.) The rest of a chain is the issuers', never the client's own
 * certificate, so it authenticates nothing. The shape of each x5c was
 * checked with the JWKS (./jwks-validation.ts).
 */
export async function certificateThumbprints(jwks: { keys: JWK[] }): Promise<string[]> {
  const thumbprints: string[] = [];
  for (const [i, jwk] of jwks.keys.entries()) {
    const field = `jwks.keys[${i}].x5c[0]`;
    const first = jwk.x5c?.[0];
    const der = first === undefined ? undefined : certificateDer(first);
    const alg = importAlg(jwk);
    if (first === undefined || !der || !alg) throw fieldError(field, "is required");
    const key = await certificateKey(first, alg);
    const members = KEY_MEMBERS[jwk.kty as keyof typeof KEY_MEMBERS];
    if (!key || members.some((m) => key[m as keyof JWK] !== jwk[m as keyof JWK])) {
      throw fieldError(field, "is not a certificate of this key (RFC 7517 section 4.7)");
    }
    thumbprints.push(await certificateThumbprint(der));
  }
  return [...new Set(thumbprints)];
}
