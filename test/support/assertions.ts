import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { ISSUER } from "./http";

/**
 * Client assertions (RFC 7523 §2.2, OIDC Core §9) as a client would build
 * them: keys generated with jose in the test, the public half registered,
 * the private half signing short-lived JWTs with a fresh jti.
 */

export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export type AssertionAlg = "ES256" | "RS256" | "EdDSA" | "HS256";

export interface ClientKey {
  alg: Exclude<AssertionAlg, "HS256">;
  privateKey: CryptoKey;
  /** The public JWK, with kid and alg, as it is registered. */
  publicJwk: JWK;
}

let keyCounter = 0;

export async function clientKey(alg: ClientKey["alg"]): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = {
    ...(await exportJWK(publicKey)),
    kid: `test-key-${alg}-${keyCounter++}`,
    alg,
    use: "sig",
  };
  return { alg, privateKey, publicJwk };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export const newJti = (): string => crypto.randomUUID();

/** The claims RFC 7523 §3 asks for, for `clientId`; `claims` overrides or (undefined) removes one. */
export function assertionClaims(
  clientId: string,
  claims: Record<string, unknown> = {},
): JWTPayload {
  const now = nowSeconds();
  const base: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    jti: newJti(),
    iat: now,
    exp: now + 60,
    ...claims,
  };
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
  return base as JWTPayload;
}

/** A private_key_jwt assertion signed with the client's private key. */
export function signWithKey(
  key: ClientKey,
  clientId: string,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(assertionClaims(clientId, claims))
    .setProtectedHeader({ alg: key.alg, kid: key.publicJwk.kid as string, typ: "JWT" })
    .sign(key.privateKey);
}

/** A client_secret_jwt assertion: HMAC with the client secret's UTF-8 bytes as the key. */
export function signWithSecret(
  secret: string,
  clientId: string,
  claims: Record<string, unknown> = {},
  alg: "HS256" | "HS384" | "HS512" = "HS256",
): Promise<string> {
  return new SignJWT(assertionClaims(clientId, claims))
    .setProtectedHeader({ alg, typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

/** The form parameters that carry an assertion (RFC 7521 §4.2). */
export function assertionParams(assertion: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion };
}

export const TOKEN_ENDPOINT = `${ISSUER}/token`;
export const INTROSPECTION_ENDPOINT = `${ISSUER}/introspect`;
