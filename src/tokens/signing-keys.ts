import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, type JWK } from "jose";
import { LIMITS } from "../config";
import { concatBytes, fromBase64Url, randomBytes, toBase64Url, utf8 } from "../lib/bytes";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";
import { serverKeys } from "../server-keys";

/**
 * The signing keys, generated and kept by the service itself (one instance,
 * named "signing-keys"). ES256 keys rotate on a schedule:
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

export const SIGNING_ALG = "ES256";

interface StoredKey {
  kid: string;
  /** The private JWK, AES-GCM-sealed under the server's key-wrapping key. */
  sealedPrivate: string;
  publicJwk: JWK;
  createdAt: number;
  activatesAt: number;
}

export interface KeyPolicy {
  rotationSeconds: number;
}

export interface KeySetView {
  active: { kid: string; privateJwk: JWK };
  /** Every key a live token may be signed with, plus the next one. */
  published: JWK[];
  /** The Worker may use this view until then. */
  validUntil: number;
}

/** Longer than any access or ID token can live. */
export const KEY_RETENTION_SECONDS =
  Math.max(LIMITS.maxAccessTokenLifetime, LIMITS.maxIdTokenLifetime) + 3600;
const VIEW_TTL_SECONDS = 300;

export class SigningKeys extends DurableObject<Env> {
  private load(): StoredKey[] {
    return this.ctx.storage.kv.get<StoredKey[]>("keys") ?? [];
  }

  async keySet(policy: KeyPolicy): Promise<KeySetView> {
    const now = nowSeconds();
    if (this.needsMaintenance(this.load(), now)) {
      // Generating a key awaits WebCrypto; block other calls so two of them
      // cannot both decide to create one.
      await this.ctx.blockConcurrencyWhile(() => this.maintain(now, policy));
    }
    return this.view(this.load(), now);
  }

  /**
   * Starts signing with the next key at once (for example after a suspected
   * compromise of the current one): the key that was published ahead for the
   * schedule, so caches already have it; a new next key is published.
   */
  async rotateNow(policy: KeyPolicy): Promise<KeySetView> {
    const now = nowSeconds();
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.maintain(now, policy);
      this.promoteNext(now);
      await this.maintain(now, policy);
    });
    return this.view(this.load(), now);
  }

  /**
   * Takes a key out at once: out of the JWKS and so out of every verification
   * (each isolate's copy follows within its view's lifetime, at most five
   * minutes; the isolate that revoked it at once). If it was signing, the next
   * key takes over first. False for a kid it does not hold.
   */
  async revoke(kid: string, policy: KeyPolicy): Promise<boolean> {
    const now = nowSeconds();
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.maintain(now, policy);
      if (!this.load().some((k) => k.kid === kid)) return false;
      if (this.activeKey(this.load(), now)?.kid === kid) this.promoteNext(now);
      this.ctx.storage.kv.put(
        "keys",
        this.load().filter((k) => k.kid !== kid),
      );
      await this.maintain(now, policy);
      return true;
    });
  }

  /**
   * Keys are appended in the order they activate (the next key after the
   * active one), so list order settles ties between keys activated within the
   * same second.
   */
  private activeKey(keys: StoredKey[], now: number): StoredKey | undefined {
    return keys.findLast((k) => k.activatesAt <= now);
  }

  private needsMaintenance(keys: StoredKey[], now: number): boolean {
    if (!this.activeKey(keys, now)) return true;
    if (keys.some((k) => k.sealedPrivate === undefined)) return true; // stored in clear before

    if (!keys.some((k) => k.activatesAt > now)) return true;
    return keys.some((_, i) => this.supersededAt(keys, i) + KEY_RETENTION_SECONDS < now);
  }

  /** When the key at `index` stopped signing: when the next one activated (or never, yet). */
  private supersededAt(keys: StoredKey[], index: number): number {
    return keys[index + 1]?.activatesAt ?? Number.POSITIVE_INFINITY;
  }

  /** The published next key activates now (it is last in the list). */
  private promoteNext(now: number): void {
    const keys = this.load();
    const next = keys.at(-1);
    if (next && next.activatesAt > now) {
      next.activatesAt = now;
      this.ctx.storage.kv.put("keys", keys);
    }
  }

  /** An active key (generated now only on the very first use), a published next key, retention. */
  private async maintain(now: number, policy: KeyPolicy): Promise<void> {
    const wrap = (await serverKeys(this.env)).signingKeyWrap;
    let keys = this.load();
    for (const key of keys as (StoredKey & { privateJwk?: JWK })[]) {
      // A key stored in clear by an earlier version is wrapped now.
      if (key.sealedPrivate === undefined && key.privateJwk) {
        key.sealedPrivate = await seal(key.privateJwk, wrap);
        delete key.privateJwk;
      }
    }
    let active = this.activeKey(keys, now);
    if (!active) {
      keys = keys.filter((k) => k.activatesAt <= now);
      active = await generate(now, now, wrap);
      keys.push(active);
    }
    if (!keys.some((k) => k.activatesAt > now)) {
      keys.push(
        await generate(now, Math.max(now + 1, active.activatesAt + policy.rotationSeconds), wrap),
      );
    }
    const all = keys;
    keys = all.filter((_, i) => this.supersededAt(all, i) + KEY_RETENTION_SECONDS >= now);
    this.ctx.storage.kv.put("keys", keys);
  }

  private async view(keys: StoredKey[], now: number): Promise<KeySetView> {
    const active = this.activeKey(keys, now);
    if (!active) throw new Error("signing key maintenance left no active key");
    const wrap = (await serverKeys(this.env)).signingKeyWrap;
    const next = keys.filter((k) => k.activatesAt > now).map((k) => k.activatesAt);
    return {
      active: { kid: active.kid, privateJwk: await unseal(active.sealedPrivate, wrap) },
      published: keys.map((k) => k.publicJwk),
      validUntil: Math.min(now + VIEW_TTL_SECONDS, ...next),
    };
  }
}

async function generate(now: number, activatesAt: number, wrap: CryptoKey): Promise<StoredKey> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  audit("signing_key.created", { kid, activatesAt });
  const meta = { kid, alg: SIGNING_ALG, use: "sig" };
  return {
    kid,
    sealedPrivate: await seal({ ...privateJwk, ...meta, key_ops: ["sign"] }, wrap),
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, ...meta },
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

async function unseal(sealed: string, key: CryptoKey): Promise<JWK> {
  const bytes = fromBase64Url(sealed);
  if (!bytes) throw new Error("a stored signing key is not readable");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12) },
    key,
    bytes.slice(12),
  );
  return JSON.parse(new TextDecoder().decode(plain)) as JWK;
}
