import { importJWK, type JWK } from "jose";
import { isolateCacheSettings, type ProviderConfig } from "../config";
import { nowSeconds } from "../lib/time";
import { currentRequestId, logError } from "../log";
import { readRevokedSigningKeys } from "../revocation/lists";
import type { SigningKeyState } from "./key-state";
import { ACCESS_TOKEN_ALG, SIGNING_ALGS, type SigningAlg } from "./signing-keys";

/**
 * The Worker's copy of the signing keys: fetched from the SigningKeys Durable
 * Object at most every few minutes per isolate and imported once, so signing
 * and verifying a token costs no Durable Object call.
 *
 * A key revoked through another isolate must not wait for this copy to
 * expire: every REVOCATION_CACHE_SECONDS (default 5) the isolate reads the
 * KV list of revoked kids (one read, whatever the number of tokens), and a
 * copy that holds one of them is fetched again, without it. In between, no
 * KV read and no Durable Object call is added to signing or verifying. So a
 * revocation reaches the isolate that made it at once, the rest of its
 * location within REVOCATION_CACHE_SECONDS, and other locations within about
 * 60 s more (KV's propagation); and, should KV be unreadable, still within
 * the copy's own lifetime (at most five minutes). README, "Signing keys".
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

/** The revoked kids as this isolate last read them (or revoked them itself), and when it read (ms). */
const revoked = { kids: new Set<string>(), readAt: Number.NEGATIVE_INFINITY };

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

/**
 * Reads the revoked kids when the last read is REVOCATION_CACHE_SECONDS old;
 * else nothing. The request that finds the list stale reads it itself, and
 * marks it read as it starts, so the isolate's other requests meanwhile go on
 * with the list they have: a KV read's body belongs to the request that made
 * it, and may not be awaited from another (workerd refuses that I/O).
 */
async function revocationsRead(env: Env): Promise<void> {
  const bound = isolateCacheSettings(env).revocationSeconds * 1000;
  if (Date.now() - revoked.readAt < bound) return; // the common case
  revoked.readAt = Date.now();
  try {
    for (const kid of await readRevokedSigningKeys(env)) revoked.kids.add(kid);
  } catch (error) {
    // Fail open: the copy's own lifetime still bounds a revocation; the next read may work.
    logError("revoked_signing_keys_unreadable", error);
  }
}

function holdsRevoked(ring: KeyRing): boolean {
  if (revoked.kids.size === 0) return false;
  for (const kid of ring.verificationKeys.keys()) if (revoked.kids.has(kid)) return true;
  return SIGNING_ALGS.some((alg) => revoked.kids.has(ring.signing[alg].kid));
}

export async function keyRing(env: Env, config: ProviderConfig): Promise<KeyRing> {
  await revocationsRead(env);
  const cached = current && nowSeconds() < current.validUntil ? current.ring : undefined;
  const copy = cached ?? refresh(env, config);
  const ring = await copy;
  if (!holdsRevoked(ring)) return ring;
  // A key revoked elsewhere is in this copy: fetch a new one, once for every caller that found
  // it. The object dropped the key before it published the revocation: the new copy lacks it.
  return current && current.ring !== copy ? current.ring : refresh(env, config);
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
  if (revoked.kids.has(kid)) return undefined; // even while a new copy could not be fetched
  const known = ring.verificationKeys.get(kid);
  if (known) return known;
  const now = nowSeconds();
  if (now - lastForcedRefresh < 30) return undefined;
  lastForcedRefresh = now;
  return (await refresh(env, config)).verificationKeys.get(kid);
}

/** The keys and their states, for the admin API and the console. */
export async function signingKeyInventory(
  env: Env,
  config: ProviderConfig,
): Promise<SigningKeyState[]> {
  const policy = { rotationSeconds: config.signingKeyRotationSeconds };
  return stub(env).inventory(policy, currentRequestId());
}

export async function rotateSigningKey(env: Env, config: ProviderConfig): Promise<KeyRing> {
  return refresh(env, config, true);
}

/**
 * Takes a key out of the JWKS and of verification; this isolate forgets it at
 * once, the others within REVOCATION_CACHE_SECONDS (and KV's propagation).
 */
export async function revokeSigningKey(
  env: Env,
  config: ProviderConfig,
  kid: string,
): Promise<KeyRing | undefined> {
  const policy = { rotationSeconds: config.signingKeyRotationSeconds };
  if (!(await stub(env).revoke(kid, policy, currentRequestId()))) return undefined;
  revoked.kids.add(kid);
  return refresh(env, config);
}
