import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, type JWK } from "jose";
import { LIMITS } from "../config";
import { inObjectCall } from "../events/recorder";
import { concatBytes, fromBase64Url, randomBytes, toBase64Url, utf8 } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit, logError, type RequestId } from "../log";
import { publishRevokedSigningKeys } from "../revocation/lists";
import { serverKeys } from "../server-keys";
import { SIGNING_ALGS, type SigningAlg, type SigningKeyState } from "./key-state";

export { ACCESS_TOKEN_ALG, SIGNING_ALGS, type SigningAlg } from "./key-state";

/**
 * The signing keys, generated and kept by the service itself (one instance,
 * named "signing-keys"): a line of ES256 keys (access tokens, and ID tokens
 * for clients that ask for ES256) and a line of RS256 keys (ID tokens: OIDC
 * Core §15.1 makes RS256 mandatory to support). Each line rotates on a
 * schedule:
 *
 *   created (published) ──▶ active ──(the next key activates)──▶ superseded ──(retention)──▶ gone
 *
 * There is always a next key, published from the moment the current one
 * starts signing, so a rotation (scheduled or forced) only ever signs with a
 * key that resource servers' JWKS caches have had time to see. A key stays in
 * the JWKS for `retention` after it stops signing, longer than any token it
 * signed can live; a revoked key leaves the JWKS at once. Private keys are
 * kept wrapped (AES-GCM under a key derived from SERVER_SECRET), never in
 * clear in storage.
 */

interface StoredKey {
  kid: string;
  /** Keys stored before RS256 existed have none: they are ES256. */
  alg?: SigningAlg;
  /** The private JWK, AES-GCM-sealed under the server's key-wrapping key. */
  sealedPrivate: string;
  publicJwk: JWK;
  createdAt: number;
  activatesAt: number;
}

const algOf = (key: StoredKey): SigningAlg => key.alg ?? "ES256";

export interface KeyPolicy {
  rotationSeconds: number;
}

export interface KeySetView {
  /** The key that signs now, per algorithm. */
  active: Record<SigningAlg, { kid: string; privateJwk: JWK }>;
  /** Every key a live token may be signed with, plus the next ones. */
  published: JWK[];
  /** The Worker may use this view until then. */
  validUntil: number;
}

/** Longer than any access or ID token can live. */
export const KEY_RETENTION_SECONDS =
  Math.max(LIMITS.maxAccessTokenLifetime, LIMITS.maxIdTokenLifetime) + 3600;
const VIEW_TTL_SECONDS = 300;
/** The revoked kids, each listed until no token signed with it can be alive. */
const REVOKED = "revoked";
interface RevokedKid {
  kid: string;
  until: number;
}
/** A failed publication of the revoked kids is retried by the alarm this soon. */
const PUBLISH_RETRY_MS = 5_000;
/** How long a next key is published before it may sign: half the period, at most a day. */
const leadFor = (policy: KeyPolicy) => Math.min(86_400, Math.floor(policy.rotationSeconds / 2));

/**
 * Each algorithm has its own line of keys in the one stored list, in the
 * order they activate: the line's active key is its last one that has
 * activated, its next key the one after.
 */
const line = (keys: StoredKey[], alg: SigningAlg) => keys.filter((k) => algOf(k) === alg);

export class SigningKeys extends DurableObject<Env> {
  private load(): StoredKey[] {
    return this.ctx.storage.kv.get<StoredKey[]>("keys") ?? [];
  }

  // Each public method may create keys (and log it): it takes the caller's
  // request id last, for those lines (src/log.ts).

  keySet(policy: KeyPolicy, requestId: RequestId): Promise<KeySetView> {
    return inObjectCall(this.ctx, this.env, requestId, () => this.currentKeySet(policy));
  }

  private async currentKeySet(policy: KeyPolicy): Promise<KeySetView> {
    const now = nowSeconds();
    if (this.needsMaintenance(this.load(), now)) {
      // Generating a key awaits WebCrypto; block other calls so two of them
      // cannot both decide to create one.
      await this.ctx.blockConcurrencyWhile(() => this.maintain(now, policy));
    }
    try {
      return await this.view(this.load(), now);
    } catch (error) {
      if (!(error instanceof UnreadableKey)) throw error;
      // SERVER_SECRET changed: the wrapped keys can no longer be read (and
      // every token signed with them is as dead as the refresh tokens the old
      // secret tagged). Drop them and start new lines, rather than failing on
      // every request.
      await this.ctx.blockConcurrencyWhile(() => this.dropUnreadable(now, policy));
      return this.view(this.load(), now);
    }
  }

  private async dropUnreadable(now: number, policy: KeyPolicy): Promise<void> {
    const wrap = (await serverKeys(this.env)).signingKeyWrap;
    const readable: StoredKey[] = [];
    for (const key of this.load()) {
      try {
        await unseal(key.sealedPrivate, wrap);
        readable.push(key);
      } catch {
        logError("signing_key_unreadable", new Error("a wrapped signing key does not open"), {
          kid: key.kid,
        });
      }
    }
    this.ctx.storage.kv.put("keys", readable);
    await this.maintain(now, policy);
  }

  /**
   * Starts signing with the next keys at once (for example after a suspected
   * compromise of the current ones): the keys that were published ahead for
   * the schedule, so caches already have them; new next keys are published.
   */
  rotateNow(policy: KeyPolicy, requestId: RequestId): Promise<KeySetView> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      const now = nowSeconds();
      await this.ctx.blockConcurrencyWhile(async () => {
        await this.maintain(now, policy);
        for (const alg of SIGNING_ALGS) this.promoteNext(now, alg);
        await this.maintain(now, policy);
      });
      return this.view(this.load(), now);
    });
  }

  /**
   * Takes a key out at once: out of the JWKS and so out of every verification.
   * If it was signing, the next key of its algorithm takes over first. The
   * isolate that revoked it reloads its copy at once; every other isolate
   * learns of it from the KV list of revoked kids, published here, which each
   * reads every REVOCATION_CACHE_SECONDS (src/tokens/keyring.ts). False for a
   * kid it does not hold.
   */
  revoke(kid: string, policy: KeyPolicy, requestId: RequestId): Promise<boolean> {
    const now = nowSeconds();
    return inObjectCall(this.ctx, this.env, requestId, () =>
      this.ctx.blockConcurrencyWhile(async () => {
        await this.maintain(now, policy);
        const key = this.load().find((k) => k.kid === kid);
        if (!key) return false;
        const alg = algOf(key);
        if (this.activeKey(this.load(), now, alg)?.kid === kid) this.promoteNext(now, alg);
        this.ctx.storage.kv.put(
          "keys",
          this.load().filter((k) => k.kid !== kid),
        );
        await this.maintain(now, policy);
        const revoked: RevokedKid[] = [
          ...this.revokedKids(now),
          { kid, until: now + KEY_RETENTION_SECONDS },
        ];
        this.ctx.storage.kv.put(REVOKED, revoked);
        // Published while other calls wait, so that two revocations cannot land in KV out of order.
        await this.publishRevoked(now);
        return true;
      }),
    );
  }

  /**
   * Every key an operator should know of, newest first: the next key of each
   * algorithm (published, not yet signing), the current one, the retiring
   * ones (no longer signing, published until their tokens have all expired)
   * and the revoked ones (listed until a token they signed could be alive).
   */
  inventory(policy: KeyPolicy, requestId: RequestId): Promise<SigningKeyState[]> {
    return inObjectCall(this.ctx, this.env, requestId, async () => {
      await this.currentKeySet(policy); // maintenance first: the list is what signs now
      const now = nowSeconds();
      const keys = this.load();
      const states: SigningKeyState[] = SIGNING_ALGS.flatMap((alg) => {
        const own = line(keys, alg);
        const active = this.activeKey(keys, now, alg);
        return own.map((key, i) => ({
          kid: key.kid,
          alg,
          state: key.activatesAt > now ? "next" : key === active ? "current" : "retiring",
          created_at: key.createdAt,
          activates_at: key.activatesAt,
          published_until:
            supersededAt(own, i) === Number.POSITIVE_INFINITY
              ? null
              : supersededAt(own, i) + KEY_RETENTION_SECONDS,
        }));
      });
      const revoked: SigningKeyState[] = this.revokedKids(now).map((k) => ({
        kid: k.kid,
        alg: null,
        state: "revoked",
        created_at: null,
        activates_at: null,
        published_until: null,
      }));
      return [...states.sort((a, b) => (b.activates_at ?? 0) - (a.activates_at ?? 0)), ...revoked];
    });
  }

  private revokedKids(now: number): RevokedKid[] {
    return (this.ctx.storage.kv.get<RevokedKid[]>(REVOKED) ?? []).filter((k) => k.until > now);
  }

  /**
   * Writes the revoked kids to KV. A failed write is retried by the alarm;
   * meanwhile each isolate's copy of the keys still expires within five
   * minutes, after which it is reloaded from here without the key.
   */
  private async publishRevoked(now: number): Promise<void> {
    try {
      await publishRevokedSigningKeys(
        this.env,
        this.revokedKids(now).map((k) => k.kid),
      );
    } catch (error) {
      logError("signing_key_revocation_publish_failed", error);
      await this.ctx.storage.setAlarm(Date.now() + PUBLISH_RETRY_MS);
    }
  }

  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(() => this.publishRevoked(nowSeconds()));
  }

  private activeKey(keys: StoredKey[], now: number, alg: SigningAlg): StoredKey | undefined {
    return line(keys, alg).findLast((k) => k.activatesAt <= now);
  }

  private needsMaintenance(keys: StoredKey[], now: number): boolean {
    if (keys.some((k) => k.sealedPrivate === undefined)) return true; // stored in clear before
    for (const alg of SIGNING_ALGS) {
      const own = line(keys, alg);
      if (!this.activeKey(keys, now, alg)) return true;
      if (!own.some((k) => k.activatesAt > now)) return true;
      if (own.some((_, i) => supersededAt(own, i) + KEY_RETENTION_SECONDS < now)) return true;
    }
    return false;
  }

  /** The algorithm's published next key activates now (it is the last of its line). */
  private promoteNext(now: number, alg: SigningAlg): void {
    const keys = this.load();
    const next = line(keys, alg).at(-1);
    if (next && next.activatesAt > now) {
      next.activatesAt = now;
      this.ctx.storage.kv.put("keys", keys);
    }
  }

  /** Per algorithm: an active key (generated now only on its first use), a next key, retention. */
  private async maintain(now: number, policy: KeyPolicy): Promise<void> {
    const wrap = (await serverKeys(this.env)).signingKeyWrap;
    const stored = this.load();
    for (const key of stored as (StoredKey & { privateJwk?: JWK })[]) {
      // A key stored in clear by an earlier version is wrapped now.
      if (key.sealedPrivate === undefined && key.privateJwk) {
        key.sealedPrivate = await seal(key.privateJwk, wrap);
        delete key.privateJwk;
      }
    }
    const kept: StoredKey[] = [];
    for (const alg of SIGNING_ALGS) {
      let own = line(stored, alg);
      let active = this.activeKey(own, now, alg);
      if (!active) {
        own = own.filter((k) => k.activatesAt <= now);
        active = await generate(now, now, wrap, alg);
        own.push(active);
      }
      if (!own.some((k) => k.activatesAt > now)) {
        // Published at least `lead` before it signs, even when maintenance runs
        // late (an idle deployment, a shortened period): caches must see it first.
        const activatesAt = Math.max(
          now + leadFor(policy),
          active.activatesAt + policy.rotationSeconds,
        );
        own.push(await generate(now, activatesAt, wrap, alg));
      }
      const all = own;
      kept.push(...all.filter((_, i) => supersededAt(all, i) + KEY_RETENTION_SECONDS >= now));
    }
    this.ctx.storage.kv.put("keys", kept);
  }

  private async view(keys: StoredKey[], now: number): Promise<KeySetView> {
    const wrap = (await serverKeys(this.env)).signingKeyWrap;
    const active = {} as KeySetView["active"];
    for (const alg of SIGNING_ALGS) {
      const key = this.activeKey(keys, now, alg);
      if (!key) throw new Error("signing key maintenance left no active key");
      active[alg] = { kid: key.kid, privateJwk: await unseal(key.sealedPrivate, wrap) };
    }
    const next = keys.filter((k) => k.activatesAt > now).map((k) => k.activatesAt);
    return {
      active,
      published: keys.map((k) => k.publicJwk),
      validUntil: Math.min(now + VIEW_TTL_SECONDS, ...next),
    };
  }
}

/** When the key at `index` of its line stopped signing: when the next one activated (or never, yet). */
function supersededAt(own: StoredKey[], index: number): number {
  return own[index + 1]?.activatesAt ?? Number.POSITIVE_INFINITY;
}

const GENERATION: Record<SigningAlg, Parameters<typeof crypto.subtle.generateKey>[0]> = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  RS256: {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
};

async function generate(
  now: number,
  activatesAt: number,
  wrap: CryptoKey,
  alg: SigningAlg,
): Promise<StoredKey> {
  const pair = (await crypto.subtle.generateKey(GENERATION[alg], true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  audit("signing_key.created", { kid, alg, activatesAt });
  const meta = { kid, alg, use: "sig" };
  const publicMembers =
    publicJwk.kty === "RSA"
      ? { kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e }
      : { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y };
  return {
    kid,
    alg,
    sealedPrivate: await seal({ ...privateJwk, ...meta, key_ops: ["sign"] }, wrap),
    publicJwk: { ...publicMembers, ...meta },
    createdAt: now,
    activatesAt,
  };
}

async function seal(jwk: JWK, key: CryptoKey): Promise<string> {
  const iv = randomBytes(12);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, utf8(JSON.stringify(jwk))),
  );
  return toBase64Url(concatBytes(iv, sealed));
}

/** A wrapped key that does not open under today's wrapping key (SERVER_SECRET changed). */
class UnreadableKey extends Error {}

async function unseal(sealed: string, key: CryptoKey): Promise<JWK> {
  const bytes = fromBase64Url(sealed);
  if (!bytes || bytes.byteLength < 13)
    throw new UnreadableKey("a stored signing key is not readable");
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12) },
      key,
      bytes.slice(12),
    );
    return JSON.parse(new TextDecoder().decode(plain)) as JWK;
  } catch {
    throw new UnreadableKey("a stored signing key is not readable");
  }
}
