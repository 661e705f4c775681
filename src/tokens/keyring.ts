import { importJWK, type JWK } from "jose";
import type { ProviderConfig } from "../config";
import { nowSeconds } from "../lib/time";
import { currentRequestId } from "../log";
import { ACCESS_TOKEN_ALG, SIGNING_ALGS, type SigningAlg } from "./signing-keys";

/**
 * The Worker's copy of the signing keys: fetched from the SigningKeys Durable
 * Object at most every few minutes per isolate and imported once, so signing
 * and verifying a token costs no Durable Object call.
 */
export interface KeyRing {
  /** The kid that signs access tokens now (ES256). */
  kid: string;
  /** The key that signs now, per algorithm. */
  signing: Record<SigningAlg, { kid: string; key: CryptoKey }>;
  /** Every published key, by kid, with the one algorithm it verifies. */
  verificationKeys: ReadonlyMap<string, { alg: SigningAlg; key: CryptoKey }>;
  jwks: { keys: JWK[] };
  validUntil: number;
}

let current: { ring: Promise<KeyRing>; validUntil: number } | undefined;
let lastForcedRefresh = 0;

const stub = (env: Env) => env.SIGNING_KEYS.getByName("signing-keys");

const isSigningAlg = (alg: unknown): alg is SigningAlg =>
  (SIGNING_ALGS as readonly unknown[]).includes(alg);

async function load(env: Env, config: ProviderConfig, rotate = false): Promise<KeyRing> {
  const policy = { rotationSeconds: config.signingKeyRotationSeconds };
  // The request that loads the ring names the key-creation lines it may cause.
  const requestId = currentRequestId();
  const view = rotate
    ? await stub(env).rotateNow(policy, requestId)
    : await stub(env).keySet(policy, requestId);
  const verificationKeys = new Map<string, { alg: SigningAlg; key: CryptoKey }>();
  for (const jwk of view.published) {
    const alg = jwk.alg ?? "ES256";
    if (!isSigningAlg(alg)) continue;
    verificationKeys.set(jwk.kid as string, {
      alg,
      key: (await importJWK(jwk, alg)) as CryptoKey,
    });
  }
  const signing = {} as KeyRing["signing"];
  for (const alg of SIGNING_ALGS) {
    const active = view.active[alg];
    signing[alg] = { kid: active.kid, key: (await importJWK(active.privateJwk, alg)) as CryptoKey };
  }
  return {
    kid: signing[ACCESS_TOKEN_ALG].kid,
    signing,
    verificationKeys,
    jwks: { keys: view.published },
    validUntil: view.validUntil,
  };
}

function refresh(env: Env, config: ProviderConfig, rotate = false): Promise<KeyRing> {
  const ring = load(env, config, rotate);
  current = { ring, validUntil: nowSeconds() + 60 };
  ring.then(
    (r) => {
      if (current?.ring === ring) current.validUntil = r.validUntil;
    },
    () => {
      if (current?.ring === ring) current = undefined; // do not cache a failure
    },
  );
  return ring;
}

export function keyRing(env: Env, config: ProviderConfig): Promise<KeyRing> {
  if (current && nowSeconds() < current.validUntil) return current.ring;
  return refresh(env, config);
}

/**
 * The key for a `kid`. An unknown kid may be a key created since this isolate
 * last looked, so look once more, but at most every 30 s: a flood of tokens
 * with made-up kids must not become a flood of Durable Object calls.
 */
export async function verificationKey(
  env: Env,
  config: ProviderConfig,
  kid: string,
): Promise<{ alg: SigningAlg; key: CryptoKey } | undefined> {
  const ring = await keyRing(env, config);
  const known = ring.verificationKeys.get(kid);
  if (known) return known;
  const now = nowSeconds();
  if (now - lastForcedRefresh < 30) return undefined;
  lastForcedRefresh = now;
  return (await refresh(env, config)).verificationKeys.get(kid);
}

export async function rotateSigningKey(env: Env, config: ProviderConfig): Promise<KeyRing> {
  return refresh(env, config, true);
}

/**
 * Takes a key out of the JWKS and of verification; this isolate forgets it at
 * once, the others when their copy expires (at most five minutes).
 */
export async function revokeSigningKey(
  env: Env,
  config: ProviderConfig,
  kid: string,
): Promise<KeyRing | undefined> {
  const policy = { rotationSeconds: config.signingKeyRotationSeconds };
  if (!(await stub(env).revoke(kid, policy, currentRequestId()))) return undefined;
  return refresh(env, config);
}
