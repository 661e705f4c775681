import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { expect } from "vitest";
import { Browser, pkce, signInAndAuthorize, type TokenSet } from "./browser";
import { clientAuth, REDIRECT_URI, type RegisteredClient, type TestUser } from "./fixtures";
import { call, ISSUER, json, postForm } from "./http";

/** A client's DPoP key, making proofs the way RFC 9449 §4 describes (and oauth4webapi does). */

export const TOKEN_URL = `${ISSUER}/token`;
export const USERINFO_URL = `${ISSUER}/userinfo`;

/** Those the server accepts, and ES512, which it does not advertise. */
export type DpopAlg = "ES256" | "ES384" | "PS256" | "RS256" | "Ed25519" | "EdDSA" | "ES512";

export interface ProofOptions {
  nonce?: string;
  accessToken?: string;
  iat?: number;
  jti?: string;
  /** Header members to set or (undefined) remove. */
  header?: Record<string, unknown>;
  /** Claims to set or (undefined) remove. */
  claims?: Record<string, unknown>;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

export async function ath(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return b64url(new Uint8Array(digest));
}

export class DpopKey {
  private constructor(
    readonly alg: DpopAlg,
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly privateJwk: JWK,
    readonly jkt: string,
  ) {}

  static async generate(alg: DpopAlg = "ES256"): Promise<DpopKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    return new DpopKey(
      alg,
      privateKey as CryptoKey,
      publicJwk,
      await exportJWK(privateKey),
      await calculateJwkThumbprint(publicJwk, "sha256"),
    );
  }

  async proof(htm: string, htu: string, options: ProofOptions = {}): Promise<string> {
    const header: Record<string, unknown> = {
      typ: "dpop+jwt",
      alg: this.alg,
      jwk: this.publicJwk,
      ...options.header,
    };
    const claims: Record<string, unknown> = {
      jti: options.jti ?? crypto.randomUUID(),
      htm,
      htu,
      iat: options.iat ?? Math.floor(Date.now() / 1000),
      ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
      ...(options.accessToken !== undefined ? { ath: await ath(options.accessToken) } : {}),
      ...options.claims,
    };
    for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(this.privateKey);
  }
}

/** The server's current nonce, as a client learns it: from a use_dpop_nonce answer. */
export async function serverNonce(client: RegisteredClient, key: DpopKey): Promise<string> {
  const res = await dpopTokenRequest(
    client,
    key,
    { grant_type: "refresh_token", refresh_token: "x" },
    {},
  );
  const body = await json(res);
  expect(body.error, JSON.stringify(body)).toBe("use_dpop_nonce");
  const nonce = res.headers.get("dpop-nonce");
  expect(nonce).toBeTruthy();
  return nonce as string;
}

/** POST /token with a proof by `key` (nonce included unless `proof.nonce` is set to undefined explicitly). */
export async function dpopTokenRequest(
  client: RegisteredClient,
  key: DpopKey | undefined,
  params: Record<string, string | undefined>,
  proof: ProofOptions = {},
): Promise<Response> {
  const auth = clientAuth(client);
  const headers: Record<string, string> = { ...auth.headers };
  if (key) headers.DPoP = await key.proof("POST", TOKEN_URL, proof);
  return postForm("/token", { ...auth.params, ...params }, headers);
}

/** A DPoP token request that must succeed; the nonce is fetched first. */
export async function dpopTokens(
  client: RegisteredClient,
  key: DpopKey,
  params: Record<string, string | undefined>,
): Promise<TokenSet> {
  const nonce = await serverNonce(client, key);
  const res = await dpopTokenRequest(client, key, params, { nonce });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("dpop-nonce")).toBeTruthy();
  return json<TokenSet>(res);
}

/** The code flow, redeemed with a DPoP proof by `key`. */
export async function dpopCodeFlow(
  client: RegisteredClient,
  user: TestUser,
  key: DpopKey,
  options: { scope?: string; dpopJkt?: string } = {},
): Promise<TokenSet> {
  const { verifier, challenge } = await pkce();
  const redirect = await signInAndAuthorize(new Browser(), client, user, {
    challenge,
    scope: options.scope ?? "openid profile api:read",
    ...(options.dpopJkt ? { extra: { dpop_jkt: options.dpopJkt } } : {}),
  });
  const code = redirect.searchParams.get("code") as string;
  expect(code, redirect.toString()).toBeTruthy();
  return dpopTokens(client, key, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
}

/** GET /userinfo with `Authorization: <scheme> <token>` and, if a key is given, a proof. */
export async function userinfoWith(
  scheme: "Bearer" | "DPoP",
  accessToken: string,
  key?: DpopKey,
  proof: ProofOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `${scheme} ${accessToken}` };
  if (key) headers.DPoP = await key.proof("GET", USERINFO_URL, { accessToken, ...proof });
  return call("/userinfo", { headers });
}
