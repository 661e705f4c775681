import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, type JWK } from "jose";
import { LIMITS } from "../config";
import { nowSeconds } from "../lib/time";
import { audit } from "../log";

/**
 * The signing keys, generated and kept by the service itself (one instance,
 * named "signing-keys"). ES256 keys rotate on a schedule:
 *
 *   created ──(publish lead)──▶ active ──(next key activates)──▶ superseded ──(retention)──▶ gone
 *
 * A key is in the JWKS from the moment it is created, so resource servers see
 * it before the first token signed with it; it stays there for `retention`
 * after it stops signing, longer than any token it signed can live.
 */

export const SIGNING_ALG = "ES256";

interface StoredKey {
  kid: string;
  privateJwk: JWK;
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

const leadFor = (policy: KeyPolicy) => Math.min(86_400, Math.floor(policy.rotationSeconds / 2));

export class SigningKeys extends DurableObject<Env> {
  private load(): StoredKey[] {
    return this.ctx.storage.kv.get<StoredKey[]>("keys") ?? [];
  }

  async keySet(policy: KeyPolicy): Promise<KeySetView> {
    const now = nowSeconds();
    if (this.needsMaintenance(this.load(), now, policy)) {
      // Generating a key awaits WebCrypto; block other calls so two of them
      // cannot both decide to create one.
      await this.ctx.blockConcurrencyWhile(() => this.maintain(now, policy, false));
    }
    return this.view(this.load(), now);
  }

  /** Starts signing with a new key at once (for example after a suspected compromise). */
  async rotateNow(policy: KeyPolicy): Promise<KeySetView> {
    const now = nowSeconds();
    await this.ctx.blockConcurrencyWhile(() => this.maintain(now, policy, true));
    return this.view(this.load(), now);
  }

  /**
   * Keys are appended in the order they activate (a scheduled key activates
   * after the active one; a forced key replaces any pending one), so list
   * order settles ties between keys created within the same second.
   */
  private activeKey(keys: StoredKey[], now: number): StoredKey | undefined {
    return keys.findLast((k) => k.activatesAt <= now);
  }

  private needsMaintenance(keys: StoredKey[], now: number, policy: KeyPolicy): boolean {
    const active = this.activeKey(keys, now);
    if (!active) return true;
    const pending = keys.some((k) => k.activatesAt > now);
    if (!pending && now >= active.activatesAt + policy.rotationSeconds - leadFor(policy))
      return true;
    return keys.some((_, i) => this.supersededAt(keys, i) + KEY_RETENTION_SECONDS < now);
  }

  /** When the key at `index` stopped signing: when the next one activated (or never, yet). */
  private supersededAt(keys: StoredKey[], index: number): number {
    return keys[index + 1]?.activatesAt ?? Number.POSITIVE_INFINITY;
  }

  private async maintain(now: number, policy: KeyPolicy, immediate: boolean): Promise<void> {
    let keys = this.load();
    const active = this.activeKey(keys, now);
    if (immediate || !active) {
      keys = keys.filter((k) => k.activatesAt <= now); // a forced key replaces any pending one
      keys.push(await generate(now, now));
    } else if (
      !keys.some((k) => k.activatesAt > now) &&
      now >= active.activatesAt + policy.rotationSeconds - leadFor(policy)
    ) {
      keys.push(
        await generate(
          now,
          Math.max(now + leadFor(policy), active.activatesAt + policy.rotationSeconds),
        ),
      );
    }
    const all = keys;
    keys = all.filter((_, i) => this.supersededAt(all, i) + KEY_RETENTION_SECONDS >= now);
    this.ctx.storage.kv.put("keys", keys);
  }

  private view(keys: StoredKey[], now: number): KeySetView {
    const active = this.activeKey(keys, now);
    if (!active) throw new Error("signing key maintenance left no active key");
    const next = keys.filter((k) => k.activatesAt > now).map((k) => k.activatesAt);
    return {
      active: { kid: active.kid, privateJwk: active.privateJwk },
      published: keys.map((k) => k.publicJwk),
      validUntil: Math.min(now + VIEW_TTL_SECONDS, ...next),
    };
  }
}

async function generate(now: number, activatesAt: number): Promise<StoredKey> {
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
    privateJwk: { ...privateJwk, ...meta, key_ops: ["sign"] },
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, ...meta },
    createdAt: now,
    activatesAt,
  };
}
